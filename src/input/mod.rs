//! Loading exports onto the canonical tables: file formats, presets, column
//! maps, and parsing of timestamps and amounts.

pub mod presets;
