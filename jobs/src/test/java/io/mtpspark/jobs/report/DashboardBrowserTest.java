package io.mtpspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.jobs.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the dashboard in a real headless Chromium (Debian's {@code chromium}, which {@code .ci/run} installs):
 * the page's own self-check must report every chart drawn with finite marks and no script error, Chromium's
 * console log must hold no error, and the screenshot ({@code jobs/target/dashboard.png}) must not be blank.
 * Without a Chromium on the PATH (or in {@code $CHROMIUM}) the test is skipped and says so.
 */
class DashboardBrowserTest {
    private static final Pattern BODY = Pattern.compile("<body([^>]*)>");

    @TempDir
    Path profile;

    @Test
    void chartsDrawInHeadlessChromiumWithoutErrors() throws Exception {
        Optional<String> chromium = chromium();
        if (chromium.isEmpty()) {
            System.err.println("DashboardBrowserTest skipped: no chromium on PATH (CI installs it: apt-get install chromium)");
        }
        Assumptions.assumeTrue(chromium.isPresent(), "no chromium on PATH; CI installs Debian's chromium");

        Path target = SharedSpark.repoRoot().resolve("jobs/target");
        Path html = target.resolve("dashboard/dashboard.html");
        Files.createDirectories(html.getParent());
        Files.writeString(html, Dashboard.render(ReportFixtures.threeRuns()));
        Path screenshot = target.resolve("dashboard.png");
        Files.deleteIfExists(screenshot);

        Run dom = chromium(chromium.get(), "dom", "--dump-dom", "--enable-logging=stderr", "--v=0",
                html.toUri().toString());
        Matcher body = BODY.matcher(dom.stdout());
        assertTrue(body.find(), "no <body> in the dumped DOM; chromium stderr:\n" + dom.stderr());
        String attributes = body.group(1);
        assertEquals("", attribute(attributes, "data-errors"), "page self-check errors");
        assertEquals("ok", attribute(attributes, "data-rendered"), attributes);
        assertEquals("5", attribute(attributes, "data-charts"));
        assertTrue(Integer.parseInt(attribute(attributes, "data-marks")) >= 20, attributes);
        List<String> consoleErrors = dom.stderr().lines()
                .filter(l -> l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error"))).toList();
        assertEquals(List.of(), consoleErrors, "console errors");

        Run shot = chromium(chromium.get(), "shot", "--screenshot=" + screenshot, "--window-size=1400,2000",
                "--hide-scrollbars", html.toUri().toString());
        assertTrue(Files.exists(screenshot), "no screenshot; chromium stderr:\n" + shot.stderr());
        BufferedImage image = ImageIO.read(screenshot.toFile());
        assertEquals(1400, image.getWidth());
        Set<Integer> colors = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 7) {
            for (int x = 0; x < image.getWidth(); x += 7) {
                colors.add(image.getRGB(x, y));
            }
        }
        // A blank or error page has a handful of colours; the chart palette alone brings more than that.
        assertTrue(colors.size() > 20, "screenshot looks blank: " + colors.size() + " colours");
        for (String color : List.of(Dashboard.ACTUAL, Dashboard.SAVED, Dashboard.SPEEDUP, Dashboard.SLOW)) {
            assertTrue(colors.contains(0xFF000000 | Integer.parseInt(color.substring(1), 16)),
                    "chart colour " + color + " not on screen");
        }
        System.err.println("dashboard screenshot: " + screenshot);
    }

    private record Run(String stdout, String stderr) {
    }

    private Run chromium(String binary, String name, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(binary, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile.resolve(name)));
        command.addAll(List.of(args));
        Path out = profile.resolve(name + ".out");
        Path err = profile.resolve(name + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 90 s: " + Files.readString(err));
        }
        return new Run(Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static String attribute(String attributes, String name) {
        Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(attributes);
        return m.find() ? m.group(1) : null;
    }

    static Optional<String> chromium() {
        String explicit = System.getenv("CHROMIUM");
        if (explicit != null && new File(explicit).canExecute()) {
            return Optional.of(explicit);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                File f = new File(dir, name);
                if (f.canExecute()) {
                    return Optional.of(f.getPath());
                }
            }
        }
        return Optional.empty();
    }
}
