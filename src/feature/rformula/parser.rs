//! The R formula language as Spark parses and resolves it.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/RFormulaParser.scala`
//! (`RFormulaParser`, `ParsedRFormula`, `ResolvedRFormula` and the `Term` algebra). The
//! grammar, with whitespace allowed between tokens:
//!
//! ```text
//! formula     := label? "~" sum
//! sum         := factor (("+" | "-") factor)*
//! factor      := interaction ("*" interaction)*
//! interaction := pow (":" pow)*
//! pow         := term ("^" [1-9][0-9]*)?
//! term        := "(" sum ")" | "0" | "1" | column | "."
//! column      := ([a-zA-Z] | "." [a-zA-Z_]) [a-zA-Z0-9._]*
//! ```
//!
//! `a * b` is `a + b + a:b`, `t^n` is `t * t * ... * t` (n times), `- t` removes the terms
//! of `t`, `- 1` / `+ 0` drop the intercept, `.` is every numeric, string, boolean or vector
//! column but the label. Resolving against a schema expands `.`, drops duplicate terms
//! (`a:b` equals `b:a`) and gives the list of terms Spark's `ResolvedRFormula` holds.

use arrow::datatypes::{DataType, Schema};

use crate::error::{Error, Result};
use crate::frame::vector;

/// A formula term, as Spark's `Term` hierarchy.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Term {
    /// A column (`a`).
    Col(String),
    /// Every column but the label (`.`).
    Dot,
    /// An interaction of columns and dots (`a:b:.`); its elements are `Col` or `Dot`.
    Inter(Vec<Term>),
    /// `1` (true) or `0` (false).
    Intercept(bool),
    /// A removed term (`- t`).
    Deletion(Box<Term>),
    /// A sum of terms.
    Terms(Vec<Term>),
    /// The result of an undefined interaction (`a:1`).
    Empty,
}

impl Term {
    /// Spark's `asTerms`: the terms of a sum, or the term alone.
    fn into_terms(self) -> Vec<Term> {
        match self {
            Term::Terms(t) => t,
            t => vec![t],
        }
    }

    fn add(self, other: Term) -> Term {
        let mut t = self.into_terms();
        t.extend(other.into_terms());
        Term::Terms(t)
    }

    /// Spark's `subtract`: each term of `other` is added as a deletion (a deletion stays
    /// one: `a - (b - c)` is `a - b - c`).
    fn subtract(self, other: Term) -> Term {
        other
            .into_terms()
            .into_iter()
            .fold(self, |left, right| match right {
                d @ Term::Deletion(_) => left.add(d),
                t => left.add(Term::Deletion(Box::new(t))),
            })
    }

    /// Spark's `interact`, case for case.
    fn interact(self, other: Term) -> Term {
        match self {
            t @ (Term::Col(_) | Term::Dot) => match other {
                o @ (Term::Col(_) | Term::Dot) => Term::Inter(vec![t, o]),
                Term::Inter(o) => {
                    let mut v = vec![t];
                    v.extend(o);
                    Term::Inter(v)
                }
                o @ Term::Terms(_) => Term::Terms(vec![t]).interact(o),
                o => o.interact(t),
            },
            Term::Inter(mut left) => match other {
                o @ (Term::Col(_) | Term::Dot) => {
                    left.push(o);
                    Term::Inter(left)
                }
                Term::Inter(o) => {
                    left.extend(o);
                    Term::Inter(left)
                }
                o @ Term::Terms(_) => Term::Terms(vec![Term::Inter(left)]).interact(o),
                o => o.interact(Term::Inter(left)),
            },
            Term::Deletion(inner) => match other {
                Term::Deletion(t) => Term::Deletion(Box::new(inner.interact(*t))),
                t => Term::Deletion(Box::new(inner.interact(t))),
            },
            Term::Terms(left) => {
                let right = other.into_terms();
                let mut out = Vec::with_capacity(left.len() * right.len());
                for l in &left {
                    for r in &right {
                        out.push(l.clone().interact(r.clone()));
                    }
                }
                Term::Terms(out)
            }
            Term::Intercept(_) | Term::Empty => Term::Empty,
        }
    }

    /// The number of terms in a sum (1 for any other term).
    fn len(&self) -> usize {
        match self {
            Term::Terms(t) => t.len(),
            _ => 1,
        }
    }

    fn cross(self, other: Term) -> Term {
        let inter = self.clone().interact(other.clone());
        self.add(other).add(inter)
    }
}

/// A parsed formula: its label (empty when the formula has none) and its terms.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedFormula {
    pub(crate) label: String,
    pub(crate) terms: Vec<Term>,
}

/// A formula resolved against a schema (Spark's `ResolvedRFormula`): the label column, the
/// terms (a single column, or the columns of an interaction, in order) and whether the
/// model has an intercept.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::RFormula;
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = RFormula::new().with_formula("churn ~ contract:tenure + tenure - 1").fit(&df)?;
/// let r = model.resolved_formula();
/// assert_eq!(r.label, "churn");
/// assert_eq!(r.terms, vec![vec!["contract".to_string(), "tenure".into()], vec!["tenure".into()]]);
/// assert!(!r.has_intercept);
/// assert_eq!(r.to_string(), "ResolvedRFormula(label=churn, terms=[{contract,tenure},tenure], hasIntercept=false)");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedFormula {
    /// The label (response) column; empty for a formula without one (`~ a + b`).
    pub label: String,
    /// The terms: one column, or the columns of an interaction.
    pub terms: Vec<Vec<String>>,
    /// Whether the formula keeps the intercept (no `- 1` / `+ 0`).
    pub has_intercept: bool,
}

impl std::fmt::Display for ResolvedFormula {
    /// Spark's `ResolvedRFormula.toString`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                if t.len() > 1 {
                    format!("{{{}}}", t.join(","))
                } else {
                    t.concat()
                }
            })
            .collect();
        write!(
            f,
            "ResolvedRFormula(label={}, terms=[{}], hasIntercept={})",
            self.label,
            terms.join(","),
            self.has_intercept
        )
    }
}

impl ParsedFormula {
    /// Spark's `hasIntercept`: the last `0` / `1` / `- 0` / `- 1` decides (default true).
    pub(crate) fn has_intercept(&self) -> bool {
        let mut intercept = true;
        for t in &self.terms {
            match t {
                Term::Intercept(e) => intercept = *e,
                Term::Deletion(d) => {
                    if let Term::Intercept(e) = **d {
                        intercept = !e;
                    }
                }
                _ => {}
            }
        }
        intercept
    }

    /// The columns `.` stands for: numeric, string, boolean and vector columns but the
    /// label, in schema order.
    fn expand_dot(&self, schema: &Schema) -> Vec<String> {
        schema
            .fields()
            .iter()
            .filter(|f| {
                let dt = f.data_type();
                dt.is_numeric()
                    || matches!(
                        dt,
                        DataType::Utf8
                            | DataType::LargeUtf8
                            | DataType::Utf8View
                            | DataType::Boolean
                    )
                    || vector::field_vector_size(f).is_some()
            })
            .map(|f| f.name().clone())
            .filter(|n| *n != self.label)
            .collect()
    }

    /// Spark's `expandInteraction`: the column lists an interaction stands for, dots
    /// expanded, duplicates within and across lists dropped, shortest first (stable).
    fn expand_interaction(&self, schema: &Schema, terms: &[Term]) -> Vec<Vec<String>> {
        let Some((head, tail)) = terms.split_first() else {
            return vec![Vec::new()];
        };
        let rest = self.expand_interaction(schema, tail);
        let heads: Vec<String> = match head {
            Term::Dot => self.expand_dot(schema),
            Term::Col(c) => vec![c.clone()],
            _ => Vec::new(),
        };
        let mut seen: Vec<Vec<String>> = Vec::new();
        let mut out: Vec<Vec<String>> = Vec::new();
        for h in &heads {
            for r in &rest {
                let mut t: Vec<String> = Vec::with_capacity(r.len() + 1);
                for c in std::iter::once(h).chain(r) {
                    if !t.contains(c) {
                        t.push(c.clone());
                    }
                }
                let key = sorted(&t);
                if !seen.contains(&key) {
                    seen.push(key);
                    out.push(t);
                }
            }
        }
        out.sort_by_key(Vec::len);
        out
    }

    /// Spark's `resolve`: the terms the formula keeps on `schema`, in order, duplicates
    /// removed. Column names are not checked here (fit checks them against the schema).
    ///
    /// # Errors
    /// A nested deletion (`- (a - b)` inside an interaction), which Spark rejects too.
    pub(crate) fn resolve(&self, schema: &Schema, formula: &str) -> Result<ResolvedFormula> {
        let dot_terms = self.expand_dot(schema);
        let mut included: Vec<Vec<String>> = Vec::new();
        let mut seen: Vec<Vec<String>> = Vec::new();
        for t in &self.terms {
            match t {
                Term::Col(c) => included.push(vec![c.clone()]),
                Term::Inter(cols) => {
                    for t in self.expand_interaction(schema, cols) {
                        let key = sorted(&t);
                        if !seen.contains(&key) {
                            seen.push(key);
                            included.push(t);
                        }
                    }
                }
                Term::Dot => included.extend(dot_terms.iter().map(|c| vec![c.clone()])),
                Term::Deletion(d) => match &**d {
                    Term::Col(c) => included.retain(|t| !(t.len() == 1 && t[0] == *c)),
                    Term::Inter(cols) => {
                        let gone: Vec<Vec<String>> = self
                            .expand_interaction(schema, cols)
                            .iter()
                            .map(|t| sorted(t))
                            .collect();
                        included.retain(|t| !gone.contains(&sorted(t)));
                    }
                    Term::Dot => {
                        included.retain(|t| !(t.len() == 1 && dot_terms.contains(&t[0])))
                    }
                    Term::Deletion(_) => {
                        return Err(Error::param(
                            "RFormula",
                            "formula",
                            "a formula without nested deletions (Spark: \"Deletion terms cannot be nested\")",
                            format!("{formula:?}"),
                        ))
                    }
                    Term::Intercept(_) | Term::Terms(_) | Term::Empty => {}
                },
                Term::Intercept(_) | Term::Terms(_) | Term::Empty => {}
            }
        }
        let mut terms: Vec<Vec<String>> = Vec::with_capacity(included.len());
        for t in included {
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        Ok(ResolvedFormula {
            label: self.label.clone(),
            terms,
            has_intercept: self.has_intercept(),
        })
    }
}

/// A column list as a set (sorted, for comparing `a:b` with `b:a`).
fn sorted(t: &[String]) -> Vec<String> {
    let mut s = t.to_vec();
    s.sort();
    s.dedup();
    s
}

/// Parses an R formula as Spark's `RFormulaParser` does.
///
/// # Errors
/// [`Error::InvalidParam`] for the `formula` param, quoting the formula, pointing at the
/// position (0-based, in characters) where parsing stopped and saying what was expected
/// there.
pub(crate) fn parse(formula: &str) -> Result<ParsedFormula> {
    let mut p = Parser {
        s: formula.as_bytes(),
        pos: 0,
        far: 0,
        expected: Vec::new(),
    };
    let out = p.formula();
    match out {
        Some(f) => {
            p.skip_ws();
            if p.pos == p.s.len() {
                return Ok(f);
            }
            p.fail(p.pos, "the end of the formula");
            Err(p.error(formula))
        }
        None => Err(p.error(formula)),
    }
}

/// The most terms `^` may expand a formula to.
const MAX_TERMS: usize = 1_000_000;

/// What may follow a complete term.
const OPERATORS: &str = "an operator (`+`, `-`, `*`, `:`, `^`)";

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// The furthest position a token was expected at, and what was expected there.
    far: usize,
    expected: Vec<&'static str>,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn fail(&mut self, at: usize, what: &'static str) {
        if at > self.far {
            self.far = at;
            self.expected.clear();
        }
        if at == self.far && !self.expected.contains(&what) {
            self.expected.push(what);
        }
    }

    fn error(&self, formula: &str) -> Error {
        let at = self.far.min(formula.len());
        let found = match formula[at..].chars().next() {
            Some(c) => format!("`{c}`"),
            None => "the end of the formula".to_string(),
        };
        let col = formula[..at].chars().count();
        Error::param(
            "RFormula",
            "formula",
            "an R formula such as `y ~ a + b:c - 1` (Spark supports `~`, `+`, `-`, `.`, `:`, `*`, `^`, `0`, `1` and parentheses)",
            format!(
                "{formula:?}: at position {col}, found {found} where {} was expected",
                self.expected.join(" or "),
            ),
        )
    }

    /// A literal token (whitespace skipped before it).
    fn lit(&mut self, tok: u8, what: &'static str) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&tok) {
            self.pos += 1;
            true
        } else {
            self.fail(self.pos, what);
            false
        }
    }

    /// An operator token (whitespace skipped before it); a miss is recorded by the sum.
    fn op(&mut self, tok: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `([a-zA-Z]|\.[a-zA-Z_])[a-zA-Z0-9._]*`
    fn column(&mut self) -> Option<String> {
        self.skip_ws();
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        match s.get(i) {
            Some(c) if c.is_ascii_alphabetic() => i += 1,
            Some(b'.')
                if s.get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                i += 2
            }
            _ => return None,
        }
        while s
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_')
        {
            i += 1;
        }
        self.pos = i;
        Some(String::from_utf8_lossy(&s[start..i]).into_owned())
    }

    fn formula(&mut self) -> Option<ParsedFormula> {
        let save = self.pos;
        let label = match self.column() {
            Some(c) => c,
            None => {
                self.pos = save;
                String::new()
            }
        };
        if !self.lit(b'~', "`~`") {
            return None;
        }
        let t = self.sum()?;
        Some(ParsedFormula {
            label,
            terms: t.into_terms(),
        })
    }

    /// `factor (("+" | "-") factor)*`; an operator without a factor after it ends the sum
    /// there (as Scala's `chainl1` backtracks), and the caller reports the leftover.
    fn sum(&mut self) -> Option<Term> {
        let mut left = self.factor()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let op = match self.s.get(self.pos) {
                Some(b'+') => b'+',
                Some(b'-') => b'-',
                _ => {
                    self.fail(self.pos, OPERATORS);
                    self.pos = save;
                    return Some(left);
                }
            };
            self.pos += 1;
            match self.factor() {
                Some(right) => {
                    left = if op == b'+' {
                        left.add(right)
                    } else {
                        left.subtract(right)
                    }
                }
                None => {
                    self.pos = save;
                    return Some(left);
                }
            }
        }
    }

    fn factor(&mut self) -> Option<Term> {
        let mut left = self.interaction()?;
        loop {
            let save = self.pos;
            if !self.op(b'*') {
                self.pos = save;
                return Some(left);
            }
            match self.interaction() {
                Some(right) => left = left.cross(right),
                None => {
                    self.pos = save;
                    return Some(left);
                }
            }
        }
    }

    fn interaction(&mut self) -> Option<Term> {
        let mut left = self.pow()?;
        loop {
            let save = self.pos;
            if !self.op(b':') {
                self.pos = save;
                return Some(left);
            }
            match self.pow() {
                Some(right) => left = left.interact(right),
                None => {
                    self.pos = save;
                    return Some(left);
                }
            }
        }
    }

    fn pow(&mut self) -> Option<Term> {
        let base = self.term()?;
        let save = self.pos;
        if !self.op(b'^') {
            self.pos = save;
            return Some(base);
        }
        self.skip_ws();
        let start = self.pos;
        let mut i = start;
        if self.s.get(i).is_some_and(|c| (b'1'..=b'9').contains(c)) {
            i += 1;
            while self.s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        } else {
            self.fail(start, "a degree (a positive integer) after `^`");
            self.pos = save;
            return Some(base);
        }
        let degree: usize = std::str::from_utf8(&self.s[start..i])
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(usize::MAX);
        self.pos = i;
        // Spark's `power`: base crossed with itself `degree` times. Each cross multiplies
        // the terms, so a large degree is refused before it exhausts memory.
        let mut t = base.clone();
        for _ in 1..degree {
            let (k, m) = (t.len(), base.len());
            if k.saturating_mul(m).saturating_add(k + m) > MAX_TERMS {
                self.fail(
                    start,
                    "a smaller degree after `^` (the formula would expand to more than 1000000 terms)",
                );
                return None;
            }
            t = t.cross(base.clone());
        }
        Some(t)
    }

    fn term(&mut self) -> Option<Term> {
        self.skip_ws();
        let start = self.pos;
        match self.s.get(start) {
            Some(b'(') => {
                self.pos += 1;
                let inner = self.sum()?;
                if !self.lit(b')', "`)`") {
                    return None;
                }
                Some(inner)
            }
            Some(b'0') => {
                self.pos += 1;
                Some(Term::Intercept(false))
            }
            Some(b'1') => {
                self.pos += 1;
                Some(Term::Intercept(true))
            }
            _ => {
                if let Some(c) = self.column() {
                    return Some(Term::Col(c));
                }
                if self.s.get(start) == Some(&b'.') {
                    self.pos = start + 1;
                    return Some(Term::Dot);
                }
                self.fail(start, "a column name, `.`, `0`, `1` or `(`");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("y", DataType::Float64, false),
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Float64, false),
            Field::new("c", DataType::Int32, false),
            Field::new("d", DataType::Date32, false),
        ])
    }

    fn resolve(f: &str) -> ResolvedFormula {
        parse(f).unwrap().resolve(&schema(), f).unwrap()
    }

    fn terms(f: &str) -> Vec<String> {
        resolve(f).terms.iter().map(|t| t.join(":")).collect()
    }

    // Expected terms below are from Spark's RFormulaParserSuite (test names quoted) and
    // hand derivations from RFormulaParser.scala's term algebra.
    #[test]
    fn spark_parser_suite_cases() {
        // "parse simple formulas"
        assert_eq!(terms("y ~ a + b"), ["a", "b"]);
        assert_eq!(terms("y ~ a:b"), ["a:b"]);
        // "parse dot" (date column `d` excluded)
        assert_eq!(terms("y ~ ."), ["a", "b", "c"]);
        // "parse deletion"
        assert_eq!(terms("y ~ a - b"), ["a"]);
        assert_eq!(terms("y ~ . - a"), ["b", "c"]);
        // "parse interactions with dot"
        assert_eq!(terms("y ~ a:."), ["a", "a:b", "a:c"]);
        assert_eq!(terms("y ~ .:."), ["a", "b", "c", "a:b", "a:c", "b:c"]);
        // "dedupe interactions"
        assert_eq!(terms("y ~ a:b + b:a"), ["a:b"]);
        // "parse *"
        assert_eq!(terms("y ~ a * b"), ["a", "b", "a:b"]);
        assert_eq!(terms("y ~ (a + b) * c"), ["a", "b", "c", "a:c", "b:c"]);
        // "parse ^"
        assert_eq!(
            terms("y ~ (a + b + c)^2"),
            ["a", "b", "c", "a:b", "a:c", "b:c"]
        );
        assert_eq!(terms("y ~ (a + b) ^ 3"), ["a", "b", "a:b"]);
        assert_eq!(terms("y ~ (a + b)^9"), ["a", "b", "a:b"]);
        // "deletion of interaction"
        assert_eq!(terms("y ~ a * b - a:b"), ["a", "b"]);
        assert_eq!(terms("y ~ a * b - b:a"), ["a", "b"]);
        // Removing everything `.` stands for keeps interactions.
        assert_eq!(terms("y ~ a:b + . - ."), ["a:b"]);
    }

    #[test]
    fn intercept_and_label() {
        assert!(resolve("y ~ a").has_intercept);
        assert!(!resolve("y ~ a - 1").has_intercept);
        assert!(!resolve("y ~ a + 0").has_intercept);
        assert!(resolve("y ~ a + 0 + 1").has_intercept);
        assert!(resolve("y ~ a - 0").has_intercept);
        assert_eq!(resolve("~ a").label, "");
        assert_eq!(resolve(" y~a").label, "y");
        assert_eq!(resolve("y ~ a:1").terms, Vec::<Vec<String>>::new());
    }

    #[test]
    fn errors_point_at_the_token() {
        let msg = |f: &str| parse(f).unwrap_err().to_string();
        let m = msg("y ~ a +");
        assert!(m.contains("at position 7, found the end of the formula where a column name, `.`, `0`, `1` or `(` was expected"), "{m}");
        let m = msg("y ~ a + $b");
        assert!(m.contains("at position 8, found `$`"), "{m}");
        // 40 columns to the 30th power: refused before it expands past a million terms.
        let cols: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        let f = format!("y ~ ({})^30", cols.join("+"));
        let m = msg(&f);
        let at = f.len() - 2;
        assert!(
            m.contains(&format!(
                "at position {at}, found `3` where a smaller degree after `^`"
            )),
            "{m}"
        );
        let m = msg("y a + b");
        assert!(
            m.contains("at position 2, found `a` where `~` was expected"),
            "{m}"
        );
        let m = msg("y ~ (a + b");
        assert!(m.contains("found the end of the formula where"), "{m}");
        assert!(
            m.contains("an operator (`+`, `-`, `*`, `:`, `^`) or `)` was expected"),
            "{m}"
        );
        let m = msg("y ~ a b");
        assert!(m.contains("at position 6, found `b` where an operator (`+`, `-`, `*`, `:`, `^`) or the end of the formula was expected"), "{m}");
        let m = msg("y ~ a^0");
        assert!(m.contains("a degree (a positive integer) after `^`"), "{m}");
        assert!(
            m.starts_with("RFormula: parameter `formula` must be an R formula"),
            "{m}"
        );
    }
}
