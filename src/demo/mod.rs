//! The seeded demo data generator.

/// The built-in sample data set (placeholder until the generator lands).
pub struct BuiltinDemo {
    pub leads: Vec<u8>,
    pub opportunities: Vec<u8>,
    pub campaigns: Vec<u8>,
    pub revenue: Vec<u8>,
}

pub fn builtin() -> BuiltinDemo {
    BuiltinDemo { leads: Vec::new(), opportunities: Vec::new(), campaigns: Vec::new(), revenue: Vec::new() }
}
