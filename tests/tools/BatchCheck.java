// Runs EPUBCheck's command line on many files in one JVM, so that a test run pays for one JVM
// start and one warm-up of the checker (seconds) instead of one per file; a warm check of a
// small book takes a fraction of a second.
// Usage: java -cp epubcheck.jar BatchCheck.java
// Reads requests "<book.epub> TAB <report.json>" from standard input, one a line. For each it
// runs what `java -jar epubcheck.jar <book.epub> --json <report.json>` runs, and answers one
// line on standard output: "DONE <TAB> exit code" once the report is written, or
// "ERROR <TAB> exception" if the checker itself broke. What EPUBCheck prints goes to standard
// error, so that standard output carries the answers alone.
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

public class BatchCheck {
    public static void main(String[] args) throws IOException {
        PrintStream answers =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        BufferedReader requests =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = requests.readLine()) != null; ) {
            String[] request = line.split("\t", 2);
            try {
                int code = new EpubChecker().run(new String[] {request[0], "--json", request[1]});
                answers.println("DONE\t" + code);
            } catch (RuntimeException exc) {
                exc.printStackTrace();
                answers.println("ERROR\t" + exc);
            }
        }
    }
}
