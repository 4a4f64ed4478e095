package io.mtpspark.terraform;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** Every .tf file under a folder, parsed, with helpers to walk resources, data sources and variables. */
final class TfTree {

  /** A block such as {@code resource "type" "name" { ... }}; {@code body} is the parsed JSON object. */
  record Block(Path file, String kind, String type, String name, JsonNode body) {
    String address() {
      return switch (kind) {
        case "resource" -> type + "." + name;
        case "data" -> "data." + type + "." + name;
        default -> kind + "." + name;
      };
    }

    String where() {
      return file + ": " + address();
    }
  }

  private static final Set<String> SKIP_DIRS = Set.of("node_modules", "target", ".terraform", ".git");

  final Path root;
  final Map<Path, Hcl.Parsed> parsed;
  final Map<Path, String> text = new LinkedHashMap<>();

  private TfTree(Path root, Map<Path, Hcl.Parsed> parsed) {
    this.root = root;
    this.parsed = parsed;
    for (Path f : parsed.keySet()) {
      try {
        text.put(f, Files.readString(f));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  static TfTree load(Path root) {
    return new TfTree(root, Hcl.parse(tfFiles(root)));
  }

  static List<Path> tfFiles(Path root) {
    return filesEndingWith(root, ".tf");
  }

  static List<Path> filesEndingWith(Path root, String suffix) {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p))
          .filter(p -> {
            for (Path part : root.relativize(p)) {
              if (SKIP_DIRS.contains(part.toString())) {
                return false;
              }
            }
            return true;
          })
          .sorted()
          .forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** resource / data blocks: {@code {"resource": {"type": {"name": [body]}}}}. */
  List<Block> typed(String kind) {
    List<Block> out = new ArrayList<>();
    for (Hcl.Parsed p : parsed.values()) {
      if (!p.ok()) {
        continue;
      }
      JsonNode byType = p.json().path(kind);
      for (Iterator<Map.Entry<String, JsonNode>> t = byType.fields(); t.hasNext(); ) {
        Map.Entry<String, JsonNode> type = t.next();
        for (Iterator<Map.Entry<String, JsonNode>> n = type.getValue().fields(); n.hasNext(); ) {
          Map.Entry<String, JsonNode> name = n.next();
          for (JsonNode body : name.getValue()) {
            out.add(new Block(p.file(), kind, type.getKey(), name.getKey(), body));
          }
        }
      }
    }
    return out;
  }

  /** variable / output / module blocks: {@code {"variable": {"name": [body]}}}. */
  List<Block> named(String kind) {
    List<Block> out = new ArrayList<>();
    for (Hcl.Parsed p : parsed.values()) {
      if (!p.ok()) {
        continue;
      }
      for (Iterator<Map.Entry<String, JsonNode>> n = p.json().path(kind).fields(); n.hasNext(); ) {
        Map.Entry<String, JsonNode> name = n.next();
        for (JsonNode body : name.getValue()) {
          out.add(new Block(p.file(), kind, null, name.getKey(), body));
        }
      }
    }
    return out;
  }

  List<Block> resources() {
    return typed("resource");
  }

  List<Block> resources(String type) {
    return resources().stream().filter(b -> b.type().equals(type)).toList();
  }

  List<Block> data(String type) {
    return typed("data").stream().filter(b -> b.type().equals(type)).toList();
  }

  /** Nested blocks come out of hcl2json as arrays of objects; single attributes as scalars. */
  static List<JsonNode> blocks(JsonNode body, String name) {
    JsonNode n = body.path(name);
    List<JsonNode> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(out::add);
    } else if (n.isObject()) {
      out.add(n);
    }
    return out;
  }

  /** A string-or-list attribute as strings (expressions appear as "${...}"). */
  static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n == null || n.isMissingNode() || n.isNull()) {
      return out;
    }
    if (n.isArray()) {
      n.forEach(e -> out.addAll(strings(e)));
    } else {
      out.add(n.asText());
    }
    return out;
  }

  /** The whole body as compact text, to look for references such as aws_s3_bucket.logs. */
  static String flat(JsonNode body) {
    return body == null ? "" : body.toString();
  }
}
