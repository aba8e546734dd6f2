"""Research tooling outside the installed library: scoring comparisons, lenient protocols."""
