//! The seeded demo data generator.
