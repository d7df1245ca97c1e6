// Prints reference values for mlpipe's `random` module from the JVM classes Spark uses:
// java.util.Random, org.apache.spark.util.random.XORShiftRandom (spark-core 4.3.0) and
// org.apache.commons.math3.distribution.PoissonDistribution (commons-math3 3.6.1, as Spark's
// bagging uses it). Run with the jars PySpark 4.3.0 ships:
//   J=/work/venv/lib/python3*/site-packages/pyspark/jars
//   java -cp "$J/*" tests/jvm/RandomReference.java > tests/jvm/random_reference.txt
import java.util.Random;
import org.apache.spark.util.random.XORShiftRandom;
import org.apache.commons.math3.distribution.PoissonDistribution;

public class RandomReference {
    public static void main(String[] args) {
        long[] seeds = {0L, 1L, 42L, -7L, 123456789012345L, Long.MIN_VALUE};
        for (long s : seeds) {
            Random r = new Random(s);
            StringBuilder b = new StringBuilder("java " + s + " nextDouble");
            for (int i = 0; i < 3; i++) b.append(' ').append(Double.toString(r.nextDouble()));
            b.append(" nextInt"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextInt());
            b.append(" nextLong"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextLong());
            b.append(" nextInt(10)"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextInt(10));
            b.append(" nextInt(16)"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextInt(16));
            System.out.println(b);
        }
        for (long s : seeds) {
            XORShiftRandom r = new XORShiftRandom(s);
            StringBuilder b = new StringBuilder("xorshift " + s + " hashSeed " + org.apache.spark.util.random.XORShiftRandom$.MODULE$.hashSeed(s) + " nextDouble");
            for (int i = 0; i < 3; i++) b.append(' ').append(Double.toString(r.nextDouble()));
            b.append(" nextInt"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextInt());
            b.append(" nextLong"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextLong());
            b.append(" nextInt(7)"); for (int i = 0; i < 3; i++) b.append(' ').append(r.nextInt(7));
            System.out.println(b);
        }
        byte[][] arrays = {{}, {1}, {1, 2}, {1, 2, 3}, {1, 2, 3, 4, 5, (byte) 200, 7}};
        StringBuilder mb = new StringBuilder("murmur3 bytesHash");
        for (byte[] a : arrays) mb.append(' ').append(scala.util.hashing.MurmurHash3$.MODULE$.bytesHash(a, 0x3c074a61));
        System.out.println(mb);
        double[] means = {1.0, 0.5, 0.8, 3.0, 25.0};
        long[] pseeds = {1L, 8L, 124L, -3L};
        for (double m : means) for (long s : pseeds) {
            PoissonDistribution p = new PoissonDistribution(m);
            p.reseedRandomGenerator(s);
            StringBuilder b = new StringBuilder("poisson " + m + " " + s);
            for (int i = 0; i < 20; i++) b.append(' ').append(p.sample());
            System.out.println(b);
        }
    }
}
