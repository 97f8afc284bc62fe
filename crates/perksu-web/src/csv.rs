//! CSV exports of the history pages.
