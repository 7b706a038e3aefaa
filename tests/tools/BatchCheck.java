// Runs EPUBCheck on many files in one JVM, so that property-based tests can afford to check
// hundreds of generated books (a JVM start costs seconds; a check costs milliseconds).
// Usage: java -cp epubcheck.jar BatchCheck.java FILE...
// Prints one line per file: RESULT <TAB> path <TAB> fatals <TAB> errors <TAB> warnings.
import com.adobe.epubcheck.api.EpubCheck;
import com.adobe.epubcheck.util.DefaultReportImpl;
import java.io.File;

public class BatchCheck {
    public static void main(String[] args) {
        for (String name : args) {
            DefaultReportImpl report = new DefaultReportImpl(name);
            new EpubCheck(new File(name), report).doValidate();
            System.out.println("RESULT\t" + name + "\t" + report.getFatalErrorCount() + "\t"
                + report.getErrorCount() + "\t" + report.getWarningCount());
        }
    }
}
