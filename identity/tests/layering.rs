//! The layering the architecture promises, checked on the source: only `http/` knows
//! actix-web, only `store/` knows diesel. A domain module that imports either fails here, not
//! in review.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (`//` to the end of the line).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split("//").next().unwrap_or("")))
}

fn offenders(crate_name: &str, allowed_dir: &str) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let allowed = src.join(allowed_dir);
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&allowed)) {
        let text = std::fs::read_to_string(file).expect("read source");
        for (n, code) in code_lines(&text) {
            if code.contains(&format!("{crate_name}::"))
                || code.contains(&format!("use {crate_name}"))
            {
                found.push(format!("{}:{n}: {}", file.display(), code.trim()));
            }
        }
    }
    found
}

#[test]
fn only_http_imports_actix() {
    let found = offenders("actix_web", "http");
    assert!(
        found.is_empty(),
        "actix-web outside http/:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_store_imports_diesel() {
    let found = offenders("diesel", "store");
    assert!(
        found.is_empty(),
        "diesel outside store/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_looks_for() {
    // The scanner itself: it finds a use in code and ignores one in a comment.
    let text = "use actix_web::web;\n// actix_web::App in a comment\n";
    let hits: Vec<_> = code_lines(text)
        .filter(|(_, code)| code.contains("actix_web::"))
        .collect();
    assert_eq!(hits.len(), 1);
}
