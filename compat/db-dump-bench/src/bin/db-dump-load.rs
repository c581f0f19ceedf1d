//! dtolnay's `db-dump` crate loading the crates and versions tables: a `Loader` with only those
//! two callbacks (it stops reading the archive once both tables are done), keeping the fields a
//! lister needs from each row. Prints the row counts.
//!
//! Usage: `db-dump-load DUMP.tar.gz`

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .context("usage: db-dump-load DUMP.tar.gz")?;
    let mut crates = Vec::new();
    let mut versions = Vec::new();
    db_dump::Loader::new()
        .crates(|row| crates.push((row.id, row.name, row.updated_at)))
        .versions(|row| {
            versions.push((
                row.crate_id,
                row.num,
                row.tar_sha256,
                row.yanked,
                row.updated_at,
            ))
        })
        .load(&path)
        .with_context(|| format!("db-dump: cannot load {}", path.display()))?;
    println!("{} crates, {} versions", crates.len(), versions.len());
    Ok(())
}
