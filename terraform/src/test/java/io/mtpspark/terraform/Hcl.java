package io.mtpspark.terraform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Parses .tf files with HashiCorp's HCL parser by running {@code node tools/hcl2json.mjs} (npm
 * {@code @cdktf/hcl2json}, a wasm build of hashicorp/hcl v2) once for a whole batch of files.
 */
final class Hcl {

  /** Outcome for one file: either the parsed JSON or the parser's error message. */
  record Parsed(Path file, JsonNode json, String error) {
    boolean ok() {
      return error == null;
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Hcl() {
  }

  /** The terraform/ folder: from the system property Surefire sets, else the working directory. */
  static Path terraformDir() {
    String dir = System.getProperty("mtp.terraform.dir");
    Path p = dir != null ? Path.of(dir) : Path.of("").toAbsolutePath();
    if (!Files.isRegularFile(p.resolve("tools/hcl2json.mjs")) && Files.isDirectory(p.resolve("terraform"))) {
      p = p.resolve("terraform");
    }
    return p.toAbsolutePath().normalize();
  }

  static Map<Path, Parsed> parse(List<Path> files) {
    Map<Path, Parsed> out = new LinkedHashMap<>();
    if (files.isEmpty()) {
      return out;
    }
    Path dir = terraformDir();
    Path script = dir.resolve("tools/hcl2json.mjs");
    if (!Files.isDirectory(dir.resolve("node_modules/@cdktf/hcl2json"))) {
      throw new IllegalStateException("@cdktf/hcl2json is not installed under " + dir
          + "/node_modules: run `npm ci` there (the Maven build does it in generate-test-resources)");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("mtp.node", "node"));
    cmd.add(script.toString());
    for (Path f : files) {
      cmd.add(f.toAbsolutePath().toString());
    }
    try {
      Path err = Files.createTempFile("hcl2json", ".err");
      Process proc = new ProcessBuilder(cmd).directory(dir.toFile())
          .redirectError(err.toFile()).start();
      byte[] stdout;
      try (InputStream in = proc.getInputStream()) {
        stdout = in.readAllBytes();
      }
      if (!proc.waitFor(120, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
        throw new IllegalStateException("hcl2json timed out");
      }
      String stderr = Files.readString(err);
      Files.deleteIfExists(err);
      int rc = proc.exitValue();
      if (rc != 0 && rc != 1) {
        throw new IllegalStateException("hcl2json failed (exit " + rc + "): " + stderr);
      }
      JsonNode all = MAPPER.readTree(new String(stdout, StandardCharsets.UTF_8));
      for (Path f : files) {
        JsonNode r = all.get(f.toAbsolutePath().toString());
        if (r == null) {
          throw new IllegalStateException("hcl2json gave no result for " + f + "; stderr: " + stderr);
        }
        out.put(f, r.path("ok").asBoolean()
            ? new Parsed(f, r.get("json"), null)
            : new Parsed(f, null, r.path("error").asText()));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("could not run node (is Node.js on the PATH?): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
