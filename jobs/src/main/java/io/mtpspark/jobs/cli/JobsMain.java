package io.mtpspark.jobs.cli;

import io.mtpspark.infra.config.ConfigException;
import io.mtpspark.jobs.GenerateJob;
import io.mtpspark.jobs.ReportJob;
import io.mtpspark.jobs.generate.InputRejectedException;
import io.mtpspark.jobs.generate.JobFailedException;
import io.mtpspark.infra.store.ModelManifest;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Entry point of {@code ./mtp}: {@code generate-job [options]} runs {@link GenerateJob}; {@code report [options]}
 * runs {@link ReportJob}; {@code manifest DIR}
 * writes {@code DIR/manifest.json} for a model or adapter directory (what the model store verifies against). User
 * errors (bad options,
 * a rejected input, a model that fails verification) print one line and exit with status 2; {@code --verbose}
 * adds the stack trace.
 */
public final class JobsMain {
    private static final String USAGE = "usage: generate-job --input PATH --output PATH --model PATH [options]"
            + " | report --runs ROOT[,ROOT…] --out DIR [options] | manifest DIR; add --help to a command for its "
            + "options (see README.md)";
    private JobsMain() {
    }

    public static void main(String[] args) {
        if (args.length >= 1 && JobsHelp.asked(args)) {
            // asked for help: answer it, exit 0, check nothing else
            for (JobsHelp.Command c : JobsHelp.Command.values()) {
                if (c.commandName().equals(args[0])) {
                    System.out.print(JobsHelp.text(c));
                    return;
                }
            }
            System.out.println(args[0].equals("manifest") ? "usage: manifest DIR   writes DIR/manifest.json (size and "
                    + "SHA-256 of every file) for a model or adapter directory" : USAGE);
            return;
        }
        if (args.length == 2 && args[0].equals("manifest")) {
            ModelManifest manifest = ModelManifest.write(Path.of(args[1]));
            System.out.println("wrote " + Path.of(args[1]).resolve(ModelManifest.FILE_NAME) + " listing "
                    + manifest.files().size() + " files");
            return;
        }
        if (args.length == 0 || !args[0].equals("generate-job") && !args[0].equals("report")) {
            System.err.println(USAGE);
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        boolean verbose = Arrays.asList(rest).contains("--verbose");
        String[] jobArgs = Arrays.stream(rest).filter(a -> !a.equals("--verbose")).toArray(String[]::new);
        try {
            if (args[0].equals("report")) {
                ReportJob.main(jobArgs);
            } else {
                GenerateJob.main(jobArgs);
            }
        } catch (ConfigException | InputRejectedException | JobFailedException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            if (verbose) {
                e.printStackTrace();
            }
            System.exit(2);
        }
    }
}
