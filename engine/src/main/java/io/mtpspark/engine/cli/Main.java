package io.mtpspark.engine.cli;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tensor.SimdWidth;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code mtp-engine.jar} command line: {@code generate}, {@code bench}, {@code convert}, {@code train},
 * {@code eval}. User errors (bad files,
 * bad options) print one line naming the input and exit with status 2; {@code --verbose} adds the stack trace.
 * When started without the Vector API module it re-executes itself once with {@code --add-modules
 * jdk.incubator.vector} (and {@link #JIT_ORDER_FLAG}), so {@code java -jar} gets the SIMD path without extra flags
 * (and without the JVM's incubator warning on the console, see {@link IncubatorWarningFilter}).
 */
// scope INHERIT: every subcommand, present and future, gets --help/--version and shows option defaults in its usage
@Command(name = "mtp-engine", mixinStandardHelpOptions = true, version = "mtp-engine 0.1.0",
        scope = CommandLine.ScopeType.INHERIT, showDefaultValues = true, usageHelpAutoWidth = true,
        description = "Java LLM engine with multi-token prediction decoding.",
        subcommands = {GenerateCommand.class, BenchCommand.class, ConvertCommand.class, TrainCommand.class,
                EvalCommand.class, TokenizeCommand.class, ChatTemplateCommand.class})
public final class Main implements Runnable {
    static final int EXIT_USER_ERROR = 2;
    /**
     * Added to the re-executed JVM: C1 compiles at its profiling tier even while C2's queue is long, so a kernel first
     * called then (a block kernel after a long decode) is not left at tier 2 with boxed vectors, several times slower.
     */
    static final String JIT_ORDER_FLAG = "-XX:Tier3DelayOn=100000";

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        // asks for the module, not CpuBackend: initialising the kernels here would fix their SIMD width before the
        // model's head size can choose it (SimdWidth)
        if (!SimdWidth.vectorModulePresent() && System.getenv("MTP_NO_RELAUNCH") == null) {
            Integer code = relaunchWithVectorApi(args);
            if (code != null) {
                System.exit(code);
            }
        }
        System.exit(execute(args));
    }

    /** Runs the CLI in this JVM and returns the exit status (tests call this directly). */
    public static int execute(String... args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        try {
            SimdWidth.checkProperty();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return EXIT_USER_ERROR;
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable root = ex;
            if (root instanceof EngineException || root instanceof IllegalArgumentException) {
                commandLine.getErr().println("error: " + root.getMessage());
                if (verbose) {
                    root.printStackTrace(commandLine.getErr());
                }
                return EXIT_USER_ERROR;
            }
            commandLine.getErr().println("error: " + root);
            if (verbose) {
                root.printStackTrace(commandLine.getErr());
            } else {
                commandLine.getErr().println("(run with --verbose for the stack trace)");
            }
            return 1;
        });
        return cli.execute(args);
    }

    private static Integer relaunchWithVectorApi(String[] args) {
        try {
            String java = ProcessHandle.current().info().command().orElse(null);
            var source = Main.class.getProtectionDomain().getCodeSource();
            if (java == null || source == null) {
                return null;
            }
            String classpath = new File(source.getLocation().toURI()).getPath();
            List<String> cmd = new ArrayList<>();
            cmd.add(java);
            cmd.add("--add-modules=jdk.incubator.vector");
            cmd.add(JIT_ORDER_FLAG);
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.add("-cp");
            cmd.add(classpath);
            cmd.add(Main.class.getName());
            cmd.addAll(Arrays.asList(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO().redirectError(ProcessBuilder.Redirect.PIPE);
            pb.environment().put("MTP_NO_RELAUNCH", "1");
            Process child = pb.start();
            Thread stderr = IncubatorWarningFilter.start(child.getErrorStream(), System.err);
            int code = child.waitFor();
            stderr.join();
            return code;
        } catch (Exception e) {
            return null; // fall back to running here on scalar loops (CpuBackend warns)
        }
    }
}
