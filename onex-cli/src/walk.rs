//! Finding contract files: the paths named on the command line, and the `.yaml`/`.yml`
//! files under the directories among them.
//!
//! A file named explicitly is always taken, whatever its extension. Inside a directory only
//! `.yaml` and `.yml` files are taken, and these directories are not entered: hidden ones
//! (`.git`, `.github`, …), `target` (build output, which holds copies of contracts) and
//! `node_modules`. Symbolic links to files are followed; symbolic links to directories are
//! not (no cycles). The result is sorted, so every report is deterministic.

use std::fs;
use std::path::{Path, PathBuf};

/// Directory names never entered while walking.
pub const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// A file to look at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// The path, as given or joined onto the directory that was given.
    pub path: PathBuf,
    /// True when the path was named on the command line (not found by walking).
    pub explicit: bool,
}

/// A path that could not be looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkError {
    /// The path concerned.
    pub path: PathBuf,
    /// What went wrong, for humans.
    pub message: String,
}

/// The outcome of walking the command-line paths.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Files to look at, sorted, without duplicates.
    pub files: Vec<Target>,
    /// Paths that do not exist or cannot be listed.
    pub errors: Vec<WalkError>,
    /// Directories given on the command line that hold no `.yaml`/`.yml` file.
    pub empty_dirs: Vec<PathBuf>,
}

/// True for the file names a directory walk takes.
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Walks `paths` (files and directories).
///
/// ```
/// let walk = onex_cli::walk::walk(&[std::path::PathBuf::from("no/such/dir")]);
/// assert!(walk.files.is_empty());
/// assert_eq!(walk.errors.len(), 1);
/// ```
pub fn walk(paths: &[PathBuf]) -> Walk {
    let mut out = Walk::default();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = out.files.len();
                walk_dir(path, &mut out);
                if out.files.len() == before {
                    out.empty_dirs.push(path.clone());
                }
            }
            Ok(_) => out.files.push(Target {
                path: path.clone(),
                explicit: true,
            }),
            Err(e) => out.errors.push(WalkError {
                path: path.clone(),
                message: format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
            }),
        }
    }
    out.files.sort();
    // The same file named twice (or named and found) is looked at once; explicit wins.
    out.files.dedup_by(|later, earlier| {
        if later.path == earlier.path {
            earlier.explicit |= later.explicit;
            true
        } else {
            false
        }
    });
    out
}

fn walk_dir(dir: &Path, out: &mut Walk) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.errors.push(WalkError {
                path: dir.to_owned(),
                message: format!("cannot list `{}`: {}", dir.display(), io_reason(&e)),
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push(entry.path()),
            Err(e) => out.errors.push(WalkError {
                path: dir.to_owned(),
                message: format!("cannot list `{}`: {}", dir.display(), io_reason(&e)),
            }),
        }
    }
    children.sort();
    for child in children {
        let Ok(link_meta) = fs::symlink_metadata(&child) else {
            continue;
        };
        let name = child.file_name().map(|n| n.to_string_lossy().into_owned());
        if link_meta.is_dir() {
            if name
                .as_deref()
                .is_some_and(|n| n.starts_with('.') || SKIPPED_DIRS.contains(&n))
            {
                continue;
            }
            walk_dir(&child, out);
        } else if is_yaml(&child) {
            // A symbolic link is taken when it leads to a file (dangling links are reported
            // when read); links to directories are not followed.
            if link_meta.file_type().is_symlink() && fs::metadata(&child).is_ok_and(|m| m.is_dir())
            {
                continue;
            }
            out.files.push(Target {
                path: child,
                explicit: false,
            });
        }
    }
}

/// The reason of an I/O error without the `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_extensions() {
        assert!(is_yaml(Path::new("a/b.yaml")));
        assert!(is_yaml(Path::new("b.YML")));
        assert!(!is_yaml(Path::new("b.json")));
        assert!(!is_yaml(Path::new("yaml")));
    }
}
