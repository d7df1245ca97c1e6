//! The distribution functions behind the tests' p-values, computed as Spark computes them
//! with Apache Commons Math: `p = 1 − cdf(statistic)` (not the survival function, so a
//! p-value that rounds to 0 in Spark is 0 here too and the selectors' ties break the same
//! way). The χ² and F distribution functions come from the `statrs` crate, the normal's
//! `erfc` from `libm` (musl's, within an ulp or so: statrs' `erfc` is off by up to ~1e-11,
//! which moved the KS statistic in its 11th digit); the
//! Kolmogorov–Smirnov distribution is Commons Math's `KolmogorovSmirnovTest.cdf(d, n)`
//! (Durbin's matrix for n ≤ 140, Pelz–Good above), which statrs lacks.

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

/// `1 − P(χ²_df ≤ x)` (Spark's `ChiSqTest` p-value); NaN for a NaN statistic.
pub(crate) fn chi_squared_p_value(x: f64, df: f64) -> f64 {
    if x.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    match ChiSquared::new(df) {
        Ok(d) => 1.0 - d.cdf(x),
        Err(_) => f64::NAN,
    }
}

/// `1 − P(F_{d1,d2} ≤ x)` (Spark's `ANOVATest` / `FValueTest` p-value); NaN for a NaN
/// statistic or non-positive degrees of freedom.
pub(crate) fn f_p_value(x: f64, d1: f64, d2: f64) -> f64 {
    if x.is_nan() || d1 <= 0.0 || d2 <= 0.0 {
        return f64::NAN;
    }
    match FisherSnedecor::new(d1, d2) {
        Ok(d) => 1.0 - d.cdf(x),
        Err(_) => f64::NAN,
    }
}

/// Commons Math's `NormalDistribution(mean, sd).cumulativeProbability(x)`: 0 or 1 beyond
/// 40 standard deviations, else `erfc(−(x − mean) / (sd·√2)) / 2`.
pub(crate) fn normal_cdf(x: f64, mean: f64, sd: f64) -> f64 {
    let dev = x - mean;
    if dev.abs() > 40.0 * sd {
        return if dev < 0.0 { 0.0 } else { 1.0 };
    }
    0.5 * libm::erfc(-dev / (sd * std::f64::consts::SQRT_2))
}

/// Commons Math's `KolmogorovSmirnovTest.cdf(d, n)`: `P(D_n < d)` for the one-sample
/// statistic `D_n` of `n` values, with its quick answers at the extremes, Durbin's matrix
/// method in doubles for `n ≤ 140` and the Pelz–Good series above.
pub(crate) fn ks_cdf(d: f64, n: usize) -> f64 {
    let nf = n as f64;
    let ninv = 1.0 / nf;
    let ninvhalf = 0.5 * ninv;
    if d <= ninvhalf {
        0.0
    } else if ninvhalf < d && d <= ninv {
        let f = 2.0 * d - ninv;
        let mut res = 1.0;
        for i in 1..=n {
            res *= i as f64 * f;
        }
        res
    } else if 1.0 - ninv <= d && d < 1.0 {
        1.0 - 2.0 * (1.0 - d).powi(n as i32)
    } else if 1.0 <= d {
        1.0
    } else if n <= 140 {
        rounded_k(d, n)
    } else {
        pelz_good(d, n)
    }
}

/// A dense square matrix, row-major.
#[derive(Clone)]
struct Mat {
    m: usize,
    a: Vec<f64>,
}

impl Mat {
    /// `self · o` with each entry summed over `k` in order (Commons Math's
    /// `Array2DRowRealMatrix.multiply`).
    fn mul(&self, o: &Mat) -> Mat {
        let m = self.m;
        let mut out = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                let mut s = 0.0;
                for k in 0..m {
                    s += self.a[i * m + k] * o.a[k * m + j];
                }
                out[i * m + j] = s;
            }
        }
        Mat { m, a: out }
    }

    /// Commons Math's `AbstractRealMatrix.power(p)`: the squares `A^(2^i)` of the set bits
    /// of `p − 1`, multiplied onto `A` from the highest bit down.
    fn power(&self, p: usize) -> Mat {
        if p == 1 {
            return self.clone();
        }
        let power = p - 1;
        let bits = usize::BITS - power.leading_zeros();
        let positions: Vec<usize> = (0..bits as usize)
            .rev()
            .filter(|&b| power >> b & 1 == 1)
            .collect();
        let max = positions.first().copied().unwrap_or(0);
        let mut squares = vec![self.clone()];
        for i in 1..=max {
            let s = squares[i - 1].mul(&squares[i - 1]);
            squares.push(s);
        }
        let mut result = self.clone();
        for &i in &positions {
            result = result.mul(&squares[i]);
        }
        result
    }
}

/// Commons Math's `roundedK`: Durbin's matrix `H` in doubles raised to the `n`-th power.
fn rounded_k(d: f64, n: usize) -> f64 {
    let nf = n as f64;
    let k = (nf * d).ceil() as usize;
    let m = 2 * k - 1;
    let h = k as f64 - nf * d;
    let mut a = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            a[i * m + j] = if (i as isize) - (j as isize) + 1 < 0 {
                0.0
            } else {
                1.0
            };
        }
    }
    let mut hp = vec![0.0; m];
    hp[0] = h;
    for i in 1..m {
        hp[i] = h * hp[i - 1];
    }
    for i in 0..m {
        a[i * m] -= hp[i];
        a[(m - 1) * m + i] -= hp[m - i - 1];
    }
    if 2.0 * h - 1.0 > 0.0 {
        a[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..=i {
            for g in 2..=(i - j + 1) {
                a[i * m + j] /= g as f64;
            }
        }
    }
    let hpow = Mat { m, a }.power(n);
    let mut p = hpow.a[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p *= i as f64 / nf;
    }
    p
}

/// Commons Math's `pelzGood(d, n)`: the Pelz–Good asymptotic series for `P(D_n < d)`.
fn pelz_good(d: f64, n: usize) -> f64 {
    const MAX_TERMS: usize = 100_000;
    const REL: f64 = 1.0e-10;
    use std::f64::consts::PI;
    let pi2 = PI * PI;
    let nf = n as f64;
    let sqrt_n = nf.sqrt();
    let z = d * sqrt_n;
    let z2 = d * d * nf;
    let z4 = z2 * z2;
    let z6 = z4 * z2;
    let z8 = z4 * z4;

    let mut sum = 0.0;
    let z2_term = pi2 / (8.0 * z2);
    for k in 1..MAX_TERMS {
        let kt = (2 * k - 1) as f64;
        let inc = (-z2_term * kt * kt).exp();
        sum += inc;
        if inc <= REL * sum {
            break;
        }
    }
    let mut ret = sum * (2.0 * PI).sqrt() / z;

    let two_z2 = 2.0 * z2;
    sum = 0.0;
    for k in 0..MAX_TERMS {
        let kt = k as f64 + 0.5;
        let kt2 = kt * kt;
        let inc = (pi2 * kt2 - z2) * (-pi2 * kt2 / two_z2).exp();
        sum += inc;
        if inc.abs() < REL * sum.abs() {
            break;
        }
    }
    let sqrt_half_pi = (PI / 2.0).sqrt();
    ret += sum * sqrt_half_pi / (3.0 * z4 * sqrt_n);

    let z4_term = 2.0 * z4;
    let z6_term = 6.0 * z6;
    let z2_term = 5.0 * z2;
    let pi4 = pi2 * pi2;
    sum = 0.0;
    for k in 0..MAX_TERMS {
        let kt = k as f64 + 0.5;
        let kt2 = kt * kt;
        let inc = (z6_term
            + z4_term
            + pi2 * (z4_term - z2_term) * kt2
            + pi4 * (1.0 - two_z2) * kt2 * kt2)
            * (-pi2 * kt2 / two_z2).exp();
        sum += inc;
        if inc.abs() < REL * sum.abs() {
            break;
        }
    }
    let mut sum2 = 0.0;
    for k in 1..MAX_TERMS {
        let kt2 = (k * k) as f64;
        let inc = pi2 * kt2 * (-pi2 * kt2 / two_z2).exp();
        sum2 += inc;
        if inc.abs() < REL * sum2.abs() {
            break;
        }
    }
    ret += (sqrt_half_pi / nf) * (sum / (36.0 * z2 * z2 * z2 * z) - sum2 / (18.0 * z2 * z));

    let pi6 = pi4 * pi2;
    sum = 0.0;
    for k in 0..MAX_TERMS {
        let kt = k as f64 + 0.5;
        let kt2 = kt * kt;
        let kt4 = kt2 * kt2;
        let kt6 = kt4 * kt2;
        let inc = (pi6 * kt6 * (5.0 - 30.0 * z2)
            + pi4 * kt4 * (-60.0 * z2 + 212.0 * z4)
            + pi2 * kt2 * (135.0 * z4 - 96.0 * z6)
            - 30.0 * z6
            - 90.0 * z8)
            * (-pi2 * kt2 / two_z2).exp();
        sum += inc;
        if inc.abs() < REL * sum.abs() {
            break;
        }
    }
    sum2 = 0.0;
    for k in 1..MAX_TERMS {
        let kt2 = (k * k) as f64;
        let kt4 = kt2 * kt2;
        let inc = (-pi4 * kt4 + 3.0 * pi2 * kt2 * z2) * (-pi2 * kt2 / two_z2).exp();
        sum2 += inc;
        if inc.abs() < REL * sum2.abs() {
            break;
        }
    }
    ret + (sqrt_half_pi / (sqrt_n * nf)) * (sum / (3240.0 * z6 * z4) + sum2 / (108.0 * z6))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from scipy 1.x (`scipy.stats.chi2.sf`, `f.sf`, `norm.cdf`) and,
    /// for the KS distribution, `scipy.stats.kstwo.cdf` (exact), which Durbin's method
    /// and Pelz–Good approximate to about 1e-10 here.
    #[test]
    fn against_scipy() {
        // chi2.sf(7.511885727230996, 4) = 0.11118632310426727
        let p = chi_squared_p_value(7.511885727230996, 4.0);
        assert!((p - 0.11118632310426727).abs() < 1e-13, "{p}");
        // f.sf(37.113754311199976, 2, 57) = 4.772261133536143e-11 (Spark's 1 − cdf gives 4.7722603646604966e-11)
        let p = f_p_value(37.113754311199976, 2.0, 57.0);
        assert!((p - 4.772261133536143e-11).abs() < 1e-15, "{p}");
        // norm.cdf(1.0, 0.3, 1.2) = 0.7201655364002942
        assert!((normal_cdf(1.0, 0.3, 1.2) - 0.7201655364002942).abs() < 1e-15);
        assert_eq!(normal_cdf(-100.0, 0.0, 1.0), 0.0);
        assert!(chi_squared_p_value(f64::NAN, 3.0).is_nan());
        assert!(f_p_value(1.0, 0.0, 3.0).is_nan());
    }

    #[test]
    fn ks_cdf_extremes_and_both_methods() {
        assert_eq!(ks_cdf(0.001, 10), 0.0);
        assert_eq!(ks_cdf(1.0, 10), 1.0);
        // d in (1/2n, 1/n]: n! (2d − 1/n)^n
        let got = ks_cdf(0.08, 10);
        let want = (1..=10).map(|i| i as f64 * (0.16 - 0.1)).product::<f64>();
        assert!((got - want).abs() < 1e-18);
        // scipy.stats.kstwo.cdf(0.153616351390104, 60) = 0.8941911020943644
        let got = ks_cdf(0.153616351390104, 60);
        assert!((got - 0.8941911020943644).abs() < 1e-9, "{got}");
        // scipy.stats.kstwo.cdf(0.0946572313020223, 300) = 0.9913729394454709
        let got = ks_cdf(0.0946572313020223, 300);
        assert!((got - 0.9913729394454709).abs() < 1e-6, "{got}");
    }
}
