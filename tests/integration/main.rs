#[test]
fn smoke() {}
mod cycle;
