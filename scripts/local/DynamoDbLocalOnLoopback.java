import com.amazonaws.services.dynamodbv2.local.main.CommandLineInput;
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
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
}
