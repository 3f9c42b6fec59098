pub mod hubspot;
