mod misalignment;

#[test]
fn smoke() {}
