//! Impurity calculators (Spark's `Gini`, `Entropy`, `Variance` and their calculators).

/// The impurity measure a tree minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impurity {
    /// Gini impurity (classification).
    Gini,
    /// Entropy in bits (classification).
    Entropy,
    /// Weighted variance of the label (regression, and every GBT tree).
    Variance,
}

impl Impurity {
    /// Spark's name (`gini`, `entropy`, `variance`).
    pub fn name(self) -> &'static str {
        match self {
            Impurity::Gini => "gini",
            Impurity::Entropy => "entropy",
            Impurity::Variance => "variance",
        }
    }

    /// Number of sufficient statistics (without the raw count): the number of classes for
    /// gini/entropy, 3 (Σw, Σwy, Σwy²) for variance.
    pub fn stats_len(self, num_classes: usize) -> usize {
        match self {
            Impurity::Variance => 3,
            _ => num_classes,
        }
    }

    /// The impurity of the statistics `s` (Spark's `ImpurityCalculator.calculate`;
    /// entropy's `log2` divides by `ln 2`, as Spark's does).
    pub fn calculate(self, s: &[f64]) -> f64 {
        match self {
            Impurity::Gini => {
                let total = count(self, s);
                if total == 0.0 {
                    return 0.0;
                }
                let mut imp = 1.0;
                for &c in s {
                    let f = c / total;
                    imp -= f * f;
                }
                imp
            }
            Impurity::Entropy => {
                let total = count(self, s);
                if total == 0.0 {
                    return 0.0;
                }
                let mut imp = 0.0;
                for &c in s {
                    if c != 0.0 {
                        let f = c / total;
                        imp -= f * (f.ln() / std::f64::consts::LN_2);
                    }
                }
                imp
            }
            Impurity::Variance => {
                if s[0] == 0.0 {
                    return 0.0;
                }
                (s[2] - s[1] * s[1] / s[0]) / s[0]
            }
        }
    }

    /// The prediction of the statistics `s`: first class with the largest weight, or the
    /// weighted mean label.
    pub fn predict(self, s: &[f64]) -> f64 {
        match self {
            Impurity::Variance => {
                if s[0] == 0.0 {
                    0.0
                } else {
                    s[1] / s[0]
                }
            }
            _ => {
                if count(self, s) == 0.0 {
                    return 0.0;
                }
                let mut best = 0;
                for (i, &c) in s.iter().enumerate() {
                    if c > s[best] {
                        best = i;
                    }
                }
                best as f64
            }
        }
    }
}

/// The weighted count of the statistics: Σ class weights (left to right) or Σw.
pub fn count(imp: Impurity, s: &[f64]) -> f64 {
    match imp {
        Impurity::Variance => s[0],
        _ => {
            let mut t = 0.0;
            for &c in s {
                t += c;
            }
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impurities_match_hand_values() {
        // Appendix B of the reference: a node with class weights [61, 9] has gini 0.22408...
        assert_eq!(Impurity::Gini.calculate(&[61.0, 9.0]), 0.22408163265306122);
        assert_eq!(Impurity::Gini.calculate(&[0.0, 4.0]), 0.0);
        // Entropy of a fair coin is one bit.
        assert_eq!(Impurity::Entropy.calculate(&[3.0, 3.0]), 1.0);
        // Variance of {1, 3}: Σw 2, Σwy 4, Σwy² 10 -> (10 - 8) / 2 = 1.
        assert_eq!(Impurity::Variance.calculate(&[2.0, 4.0, 10.0]), 1.0);
        assert_eq!(Impurity::Gini.predict(&[2.0, 5.0, 5.0]), 1.0);
        assert_eq!(Impurity::Variance.predict(&[2.0, 4.0, 10.0]), 2.0);
    }
}
