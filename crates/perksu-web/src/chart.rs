//! Bar charts drawn on the server as inline SVG, each with a text alternative.
