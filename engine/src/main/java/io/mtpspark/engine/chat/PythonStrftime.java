package io.mtpspark.engine.chat;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} for the codes chat templates use ({@code strftime_now("%d %b %Y")} in Llama
 * 3.2): C-locale names, zero-padded numbers. An unknown code is kept as written, as glibc does.
 */
final class PythonStrftime {
    private PythonStrftime() {
    }

    static String format(LocalDateTime t, String pattern) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) {
                out.append(c);
                continue;
            }
            char code = pattern.charAt(++i);
            switch (code) {
                case 'd' -> out.append(two(t.getDayOfMonth()));
                case 'm' -> out.append(two(t.getMonthValue()));
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(two(t.getYear() % 100));
                case 'H' -> out.append(two(t.getHour()));
                case 'I' -> out.append(two((t.getHour() + 11) % 12 + 1));
                case 'M' -> out.append(two(t.getMinute()));
                case 'S' -> out.append(two(t.getSecond()));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> out.append(String.format("%03d", t.getDayOfYear()));
                case 'b' -> out.append(named(t, "MMM"));
                case 'B' -> out.append(named(t, "MMMM"));
                case 'a' -> out.append(named(t, "EEE"));
                case 'A' -> out.append(named(t, "EEEE"));
                case '%' -> out.append('%');
                default -> out.append('%').append(code);
            }
        }
        return out.toString();
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : Integer.toString(v);
    }

    private static String named(LocalDateTime t, String pattern) {
        return DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(t);
    }
}
