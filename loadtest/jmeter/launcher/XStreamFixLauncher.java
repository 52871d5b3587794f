// XStreamFixLauncher runs JMeter (non-GUI) after allowing JMeter's own
// classes through XStream's security framework.
//
// Why: Debian ships JMeter 2.13 with libxstream 1.4.20, whose default
// allow-list refuses classes it does not know, so loading any .jmx fails with
// ForbiddenClassException (ScriptWrapper) and JMeter still exits 0 without
// running anything. JMeter 2.13 predates that framework and never grants
// permissions itself. The two XStream instances that read plans and results
// are the static fields JMXSAVER and JTLSAVER of
// org.apache.jmeter.save.SaveService (found with javap); this launcher grants
// AnyTypePermission on both (a plan names JMeter's classes, JMeter's
// collections and java.lang types, and plans here are trusted input from the
// repository), then calls JMeter's own entry point in the same class loader
// (NewDriver would load SaveService again in a class loader of its own, where
// the fix would not apply).
//
// scripts/jmeter.sh compiles this file with javac into a build directory; the
// .class file is never committed.
import com.thoughtworks.xstream.XStream;
import com.thoughtworks.xstream.security.AnyTypePermission;
import java.lang.reflect.Field;
import java.util.Properties;
import org.apache.jmeter.util.JMeterUtils;

public final class XStreamFixLauncher {
    private XStreamFixLauncher() {}

    public static void main(String[] args) throws Exception {
        // SaveService reads JMeter's properties while its class initializes,
        // which here happens before JMeter.start loads them: load them first,
        // with the -Jname=value overrides applied, so that every setting
        // (e.g. the results format) is read as JMeter itself would read it.
        String home = System.getProperty("jmeter.home", "/usr/share/jmeter");
        JMeterUtils.setJMeterHome(home);
        JMeterUtils.loadJMeterProperties(home + "/bin/jmeter.properties");
        Properties props = JMeterUtils.getJMeterProperties();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (a.startsWith("-J") && eq > 2) {
                props.setProperty(a.substring(2, eq), a.substring(eq + 1));
            }
        }
        Class<?> saveService = Class.forName("org.apache.jmeter.save.SaveService");
        for (String name : new String[] {"JMXSAVER", "JTLSAVER"}) {
            Field f = saveService.getDeclaredField(name);
            f.setAccessible(true);
            XStream x = (XStream) f.get(null);
            // As XStream itself did before 1.4.18.
            x.addPermission(AnyTypePermission.ANY);
        }
        System.err.println("xstream-fix: granted XStream permissions on SaveService.JMXSAVER and JTLSAVER");
        new org.apache.jmeter.JMeter().start(args);
    }
}
