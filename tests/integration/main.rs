mod expected;
mod kpis;

#[test]
fn smoke() {}
