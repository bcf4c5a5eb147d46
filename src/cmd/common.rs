//! Loading shared by the analysis commands.
