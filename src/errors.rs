//! The one idiom for wrapping a polars error: `.ctx("what was being done")`
//! on any `PolarsResult` (anyhow's `Context` clashes with polars' own
//! `PolarsContext` trait of the same method name, hence a trait of our own).

use polars::prelude::PolarsResult;

/// Polars errors with a line saying what was being done.
pub trait PolarsCtx<T> {
    fn ctx(self, what: impl std::fmt::Display) -> anyhow::Result<T>;
}

impl<T> PolarsCtx<T> for PolarsResult<T> {
    fn ctx(self, what: impl std::fmt::Display) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::new(e).context(what.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn a_polars_error_gets_its_context_line_first() {
        let r: PolarsResult<()> = Err(polars_err!(ColumnNotFound: "x"));
        let e = r.ctx("reading leads").unwrap_err();
        let line = crate::one_line(&e);
        assert!(line.starts_with("reading leads: "), "{line}");
        assert!(line.contains('x'), "{line}");
    }
}
