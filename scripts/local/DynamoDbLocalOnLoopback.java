import com.amazonaws.services.dynamodbv2.local.main.CommandLineInput;
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.io.File;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RuntimeMetaData;
import org.antlr.v4.runtime.atn.StarLoopEntryState;
import org.antlr.v4.runtime.dfa.DFA;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts AWS's DynamoDB Local listening on 127.0.0.1 only. Its own main
 * (ServerRunner.main) takes the same arguments but has no option for the address, so its
 * Jetty connector would bind every interface: this builds the server the way that main
 * does, sets each connector's host to 127.0.0.1, and only then starts it.
 *
 * dynamodb-local.ts compiles it once with javac and runs it with the emulator's jar on the
 * class path (its manifest names the libraries): java -cp <classes>:DynamoDBLocal.jar
 * DynamoDbLocalOnLoopback -port N -inMemory ... (`java -cp DynamoDBLocal.jar
 * DynamoDbLocalOnLoopback.java ...` runs it too, compiled on each start). Telemetry is never
 * set up here: it is meant to run with -disableTelemetry.
 *
 * Before the first request it also sets up the expression parsers' precedence decisions (see
 * setUpPrecedenceDecisions): DynamoDB Local 1.25 ships ANTLR's runtime 4.5, whose parsers race
 * when two requests are the first to parse an expression at once.
 */
public final class DynamoDbLocalOnLoopback {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    // Validates the arguments and prints the usage, as ServerRunner.main does.
    if (!new CommandLineInput(args).init()) System.exit(2);
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("cannot bind " + connector + " to " + HOST);
      }
      ((ServerConnector) connector).setHost(HOST);
    }
    setUpPrecedenceDecisions();
    try {
      proxy.start();
    } catch (Exception error) {
      // Jetty's threads would keep the JVM running with nothing listening: end it.
      error.printStackTrace();
      System.exit(1);
    }
    for (Connector connector : connectors) {
      ServerConnector bound = (ServerConnector) connector;
      if (bound.getLocalPort() <= 0) {
        System.err.println("DynamoDB Local is not listening on " + HOST);
        System.exit(1);
      }
      System.out.println("DynamoDB Local listening on " + HOST + ":" + bound.getLocalPort());
    }
    // Jetty's threads keep the JVM running after main returns, as with ServerRunner.main.
  }

  /**
   * ANTLR 4.5's parser marks a decision of a left-recursive rule (a condition's AND and OR, an
   * update's + and -) as a precedence decision on the first parse that reaches it: it first
   * sets the decision's start state to one with no edges, then the flag saying so. A request
   * parsed on another thread between those two writes takes that state for an ordinary one and
   * fails with "Invalid KeyConditionExpression: Index 20 out of bounds for length 0" (or the
   * same for another expression and token), an answer AWS never gives. antlr/antlr4#804, fixed
   * in 4.5.1 by marking each precedence decision when its DFA is built; this does the same, once,
   * before the server takes a request: every ANTLR parser in DynamoDB Local's jar has each
   * precedence decision marked. From 4.5.1 on the decisions are already marked and nothing is
   * done. Exits when the runtime needs it and no decision was found, so a jar that moves its
   * parsers does not bring the race back unnoticed.
   */
  static int setUpPrecedenceDecisions() throws Exception {
    File jar = new File(
        DynamoDBProxyServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> parsers = expressionParsers(jar);
    int marked = 0;
    for (Class<?> parser : parsers) marked += markPrecedenceDecisions(parser);
    if (RuntimeMetaData.VERSION.equals("4.5") && marked == 0) {
      System.err.println(
          "DynamoDB Local runs ANTLR 4.5 and none of the " + parsers.size() + " parsers in " + jar
              + " has a precedence decision: its expression parsers would race (antlr/antlr4#804)");
      System.exit(1);
    }
    System.out.println(
        "ANTLR " + RuntimeMetaData.VERSION + ": precedence decisions set up before the first"
            + " request: " + marked + ", in " + parsers.size() + " expression parser(s)");
    return marked;
  }

  /** The ANTLR parsers in a jar: generated ones are top-level classes named <Grammar>Parser. */
  static List<Class<?>> expressionParsers(File jar) throws Exception {
    ClassLoader loader = DynamoDbLocalOnLoopback.class.getClassLoader();
    List<Class<?>> parsers = new ArrayList<>();
    try (JarFile classes = new JarFile(jar)) {
      for (Enumeration<JarEntry> entries = classes.entries(); entries.hasMoreElements(); ) {
        String name = entries.nextElement().getName();
        if (!name.endsWith("Parser.class") || name.contains("$")) continue;
        String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
        Class<?> type = Class.forName(className, false, loader);
        if (Parser.class.isAssignableFrom(type) && !Modifier.isAbstract(type.getModifiers())) {
          parsers.add(type);
        }
      }
    }
    return parsers;
  }

  /** Marks each precedence decision of a generated parser's shared DFAs; returns how many. */
  static int markPrecedenceDecisions(Class<?> parser) throws Exception {
    Field field = parser.getDeclaredField("_decisionToDFA");
    field.setAccessible(true);
    int marked = 0;
    for (DFA dfa : (DFA[]) field.get(null)) {
      if (dfa.atnStartState instanceof StarLoopEntryState
          && ((StarLoopEntryState) dfa.atnStartState).precedenceRuleDecision
          && !dfa.isPrecedenceDfa()) {
        dfa.setPrecedenceDfa(true);
        marked++;
      }
    }
    return marked;
  }
}
