import com.amazon.dynamodb.grammar.DynamoDbGrammarLexer;
import com.amazon.dynamodb.grammar.DynamoDbGrammarParser;
import java.lang.reflect.Field;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.antlr.v4.runtime.ANTLRInputStream;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.dfa.DFA;

/**
 * The race DynamoDbLocalOnLoopback.setUpPrecedenceDecisions closes, played again and again:
 * each round gives DynamoDB Local's expression parser fresh DFAs, as a new JVM has, and parses
 * a KeyConditionExpression on THREADS threads at once, as concurrent first requests do.
 *
 *   java -cp <classes>:DynamoDBLocal.jar ExpressionParserRace as-shipped|launcher ROUNDS
 *
 * as-shipped leaves the DFAs as ANTLR 4.5 builds them; launcher marks their precedence
 * decisions first, as the launcher does before its server starts. Prints
 * "<failed parses> failed parses in <rounds> rounds, <marked> precedence decisions marked".
 */
public final class ExpressionParserRace {
  private static final int THREADS = 4;
  private static final String EXPRESSION = "gsi2pk = :day AND gsi2sk BETWEEN :from AND :last";

  public static void main(String[] args) throws Exception {
    boolean launcher = args[0].equals("launcher");
    int rounds = Integer.parseInt(args[1]);
    Field field = DynamoDbGrammarParser.class.getDeclaredField("_decisionToDFA");
    field.setAccessible(true);
    DFA[] dfas = (DFA[]) field.get(null);
    AtomicInteger failed = new AtomicInteger();
    int marked = 0;
    ExecutorService threads = Executors.newFixedThreadPool(THREADS);
    try {
      for (int round = 0; round < rounds; round++) {
        for (int decision = 0; decision < dfas.length; decision++) {
          dfas[decision] = new DFA(dfas[decision].atnStartState, decision);
        }
        if (launcher) {
          marked = DynamoDbLocalOnLoopback.markPrecedenceDecisions(DynamoDbGrammarParser.class);
        }
        CyclicBarrier together = new CyclicBarrier(THREADS);
        Future<?>[] parses = new Future<?>[THREADS];
        for (int thread = 0; thread < THREADS; thread++) {
          parses[thread] = threads.submit(() -> {
            DynamoDbGrammarParser parser = new DynamoDbGrammarParser(
                new CommonTokenStream(new DynamoDbGrammarLexer(new ANTLRInputStream(EXPRESSION))));
            parser.removeErrorListeners();
            together.await();
            try {
              parser.condition_();
            } catch (RuntimeException error) {
              // ArrayIndexOutOfBoundsException: Index 20 out of bounds for length 0
              failed.incrementAndGet();
            }
            return null;
          });
        }
        for (Future<?> parse : parses) parse.get();
      }
    } finally {
      threads.shutdown();
    }
    System.out.println(
        failed.get() + " failed parses in " + rounds + " rounds, " + marked
            + " precedence decisions marked");
  }
}
