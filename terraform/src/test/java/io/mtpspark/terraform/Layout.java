package io.mtpspark.terraform;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of {@code terraform fmt} layout that matter for review diffs, re-implemented after hclwrite's
 * formatter: indentation of two spaces per line that opens brackets (one level per line however many brackets
 * it opens), closing lines dedent first; {@code =} of consecutive single-line attributes aligned one space after
 * the longest name; one space after {@code =}; no tabs, no trailing spaces, a final newline.
 * Heredoc bodies are left alone, as terraform fmt does.
 */
final class Layout {

  private Layout() {
  }

  /** One line as the formatter sees it. */
  private static final class Line {
    final int number;
    final String text;
    int net;          // net bracket change over the whole line (code and template brackets)
    int eq = -1;      // column of the assignment '=' when the line is a single-line attribute
    boolean heredocBody;

    Line(int number, String text) {
      this.number = number;
      this.text = text;
    }
  }

  static List<String> check(String fileName, String src) {
    List<String> problems = new ArrayList<>();
    if (!src.isEmpty() && !src.endsWith("\n")) {
      problems.add(fileName + ": no newline at end of file");
    }
    if (src.endsWith("\n\n")) {
      problems.add(fileName + ": blank lines at end of file");
    }
    String[] raw = src.split("\n", -1);
    List<Line> lines = new ArrayList<>();
    for (int i = 0; i < raw.length; i++) {
      if (i == raw.length - 1 && raw[i].isEmpty()) {
        break;
      }
      lines.add(new Line(i + 1, raw[i]));
    }
    scan(lines);

    // indentation
    List<Integer> indents = new ArrayList<>();
    for (Line l : lines) {
      String t = l.text;
      if (l.heredocBody) {
        continue;
      }
      if (t.indexOf('\t') >= 0) {
        problems.add(fileName + ":" + l.number + ": tab character");
      }
      if (!t.isEmpty() && Character.isWhitespace(t.charAt(t.length() - 1))) {
        problems.add(fileName + ":" + l.number + ": trailing whitespace");
      }
      if (t.isBlank()) {
        continue;
      }
      int expected;
      if (l.net > 0) {
        expected = 2 * indents.size();
        indents.add(l.net);
      } else if (l.net < 0) {
        int closed = -l.net;
        while (closed > 0 && !indents.isEmpty()) {
          int top = indents.get(indents.size() - 1);
          if (closed > top) {
            closed -= top;
            indents.remove(indents.size() - 1);
          } else if (closed < top) {
            indents.set(indents.size() - 1, top - closed);
            closed = 0;
          } else {
            indents.remove(indents.size() - 1);
            closed = 0;
          }
        }
        expected = 2 * indents.size();
      } else {
        expected = 2 * indents.size();
      }
      int actual = leadingSpaces(t);
      if (actual != expected) {
        problems.add(fileName + ":" + l.number + ": indented " + actual + " spaces, terraform fmt wants "
            + expected + ": " + t.strip());
      }
    }

    // alignment of '=' in chains of consecutive single-line attributes
    int chainStart = -1;
    for (int i = 0; i <= lines.size(); i++) {
      Line l = i < lines.size() ? lines.get(i) : null;
      boolean assign = l != null && !l.heredocBody && l.eq >= 0;
      if (assign) {
        if (chainStart < 0) {
          chainStart = i;
        }
        String after = l.text.substring(l.eq + 1);
        if (!after.startsWith(" ") || after.startsWith("  ")) {
          problems.add(fileName + ":" + l.number + ": want exactly one space after '='");
        }
        continue;
      }
      if (chainStart >= 0) {
        int max = 0;
        for (int j = chainStart; j < i; j++) {
          max = Math.max(max, leadColumns(lines.get(j)));
        }
        for (int j = chainStart; j < i; j++) {
          Line c = lines.get(j);
          int want = max + 1;
          if (c.eq != want) {
            problems.add(fileName + ":" + c.number + ": '=' at column " + (c.eq + 1) + ", terraform fmt aligns it at "
                + (want + 1) + " (one space after the longest name in the block of attribute lines): "
                + c.text.strip());
          }
        }
        chainStart = -1;
      }
    }
    return problems;
  }

  private static int leadColumns(Line l) {
    return l.text.substring(0, l.eq).stripTrailing().length();
  }

  private static int leadingSpaces(String t) {
    int n = 0;
    while (n < t.length() && t.charAt(n) == ' ') {
      n++;
    }
    return n;
  }

  /**
   * Walks the characters once, tracking strings, template interpolations, comments and heredocs, and records per
   * line the net bracket change and the column of the first assignment '=' (kept only when the rest of the line
   * is bracket-balanced, as hclwrite does).
   */
  private static void scan(List<Line> lines) {
    // stack frames: '{' '[' '(' code brackets, 'S' string, 'I' interpolation inside a string
    StringBuilder stack = new StringBuilder();
    boolean blockComment = false;
    String heredoc = null;
    for (Line line : lines) {
      String t = line.text;
      if (heredoc != null) {
        line.heredocBody = true;
        if (t.strip().equals(heredoc)) {
          heredoc = null;
        }
        continue;
      }
      int net = 0;
      int eq = -1;
      int netAfterEq = 0;
      boolean sawToken = false;
      int i = 0;
      while (i < t.length()) {
        char c = t.charAt(i);
        char next = i + 1 < t.length() ? t.charAt(i + 1) : '\0';
        char mode = stack.length() == 0 ? 'C' : stack.charAt(stack.length() - 1);
        if (blockComment) {
          if (c == '*' && next == '/') {
            blockComment = false;
            i += 2;
          } else {
            i++;
          }
          continue;
        }
        if (mode == 'S') {
          if (c == '\\') {
            i += 2;
          } else if (c == '"') {
            stack.setLength(stack.length() - 1);
            i++;
          } else if ((c == '$' || c == '%') && next == '{') {
            if (i > 0 && t.charAt(i - 1) == c) { // $${ or %%{ escape
              i += 2;
              continue;
            }
            stack.append('I');
            net++;
            if (eq >= 0) {
              netAfterEq++;
            }
            i += 2;
          } else {
            i++;
          }
          continue;
        }
        // code mode (top level, inside brackets or inside an interpolation)
        if (c == '#' || (c == '/' && next == '/')) {
          break;
        }
        if (c == '/' && next == '*') {
          blockComment = true;
          i += 2;
          continue;
        }
        if (c == '<' && next == '<') {
          String rest = t.substring(i + 2);
          if (rest.startsWith("-")) {
            rest = rest.substring(1);
          }
          if (rest.matches("[A-Za-z_][A-Za-z0-9_]*\\s*")) {
            heredoc = rest.strip();
            break;
          }
        }
        if (c == '"') {
          stack.append('S');
          sawToken = true;
          i++;
          continue;
        }
        if (c == '{' || c == '[' || c == '(') {
          stack.append(c);
          net++;
          if (eq >= 0) {
            netAfterEq++;
          }
        } else if (c == '}' || c == ']' || c == ')') {
          if (stack.length() > 0) {
            stack.setLength(stack.length() - 1);
          }
          net--;
          if (eq >= 0) {
            netAfterEq--;
          }
        } else if (c == '=' && eq < 0 && sawToken) {
          char prev = i > 0 ? t.charAt(i - 1) : '\0';
          boolean operator = next == '=' || next == '>' || prev == '=' || prev == '!' || prev == '<' || prev == '>';
          if (!operator) {
            eq = i;
          }
        }
        if (!Character.isWhitespace(c)) {
          sawToken = true;
        }
        i++;
      }
      line.net = net;
      line.eq = eq >= 0 && netAfterEq == 0 ? eq : -1;
    }
  }
}
