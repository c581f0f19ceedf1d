use std::io::{self, SeekFrom};
use std::path::Path;

use fetchkit_retry::{AsyncWriterFactory, AtomicFile, BufferTooSmall, SliceFactory};
use fetchkit_test_support::file_names;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Plays a download's attempts against a factory: each attempt gets a fresh writer and writes
/// its bytes; the last one is committed.
async fn attempts<F: AsyncWriterFactory>(factory: &mut F, bodies: &[&[u8]]) -> io::Result<()> {
    for body in bodies {
        let mut writer = factory.writer(Some(body.len() as u64)).await?;
        writer.write_all(body).await?;
        writer.flush().await?;
    }
    factory.commit().await
}

const ATTEMPTS: &[&[u8]] = &[
    b"first attempt, long and wrong",
    b"second",
    b"the last bytes",
];

#[tokio::test]
async fn vec_keeps_only_the_last_attempt() {
    let mut vec = b"stale".to_vec();
    attempts(&mut vec, ATTEMPTS).await.unwrap();
    assert_eq!(vec, b"the last bytes");
}

#[tokio::test]
async fn slice_keeps_only_the_last_attempt() {
    let mut buffer = [0u8; 64];
    let mut factory = SliceFactory::new(&mut buffer);
    attempts(&mut factory, ATTEMPTS).await.unwrap();
    assert_eq!(factory.filled(), 14);
    assert_eq!(factory.into_filled(), b"the last bytes");
}

#[tokio::test]
async fn slice_too_small_is_an_error_from_the_hint() {
    let mut buffer = [0u8; 4];
    let mut factory = SliceFactory::new(&mut buffer);
    let error = factory.writer(Some(5)).await.unwrap_err();
    let inner = error
        .get_ref()
        .unwrap()
        .downcast_ref::<BufferTooSmall>()
        .unwrap();
    assert_eq!(
        *inner,
        BufferTooSmall {
            capacity: 4,
            needed: 5
        }
    );
    assert_eq!(
        error.to_string(),
        "buffer of 4 bytes is too small for at least 5 bytes"
    );
}

#[tokio::test]
async fn slice_overflow_without_a_hint_is_an_error_not_a_panic() {
    let mut buffer = [0u8; 4];
    let mut factory = SliceFactory::new(&mut buffer);
    let mut writer = factory.writer(None).await.unwrap();
    writer.write_all(b"abc").await.unwrap();
    let error = writer.write_all(b"de").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "buffer of 4 bytes is too small for at least 5 bytes"
    );
}

#[tokio::test]
async fn file_keeps_only_the_last_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut file = tokio::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    attempts(&mut file, ATTEMPTS).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"the last bytes");
    // The factory really rewound: reading from the start gives the same.
    file.seek(SeekFrom::Start(0)).await.unwrap();
    let mut read = Vec::new();
    file.read_to_end(&mut read).await.unwrap();
    assert_eq!(read, b"the last bytes");
}

#[tokio::test]
async fn atomic_file_keeps_only_the_last_attempt_and_replaces_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    std::fs::write(&path, b"old content").unwrap();
    let mut factory = AtomicFile::new(&path);
    for body in ATTEMPTS {
        let mut writer = factory.writer(None).await.unwrap();
        writer.write_all(body).await.unwrap();
        writer.flush().await.unwrap();
        // Until commit, the destination keeps its old content.
        assert_eq!(std::fs::read(&path).unwrap(), b"old content");
    }
    let temp = factory.temp_path().unwrap().to_path_buf();
    assert_eq!(
        temp.parent(),
        Some(dir.path()),
        "temp file beside the destination"
    );
    factory.commit().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"the last bytes");
    assert!(!temp.exists());
    assert_eq!(file_names(dir.path()), ["out"]);
}

#[tokio::test]
async fn atomic_file_dropped_uncommitted_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    std::fs::write(&path, b"old content").unwrap();
    {
        let mut factory = AtomicFile::new(&path);
        let mut writer = factory.writer(None).await.unwrap();
        writer.write_all(b"unverified").await.unwrap();
        writer.flush().await.unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"old content");
    assert_eq!(file_names(dir.path()), ["out"]);
}

#[tokio::test]
async fn atomic_file_resumes_after_the_kept_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut factory = AtomicFile::new(&path);
    let mut writer = factory.writer(None).await.unwrap();
    writer.write_all(b"0123456789").await.unwrap();
    writer.flush().await.unwrap();
    // The first attempt died after 10 bytes, of which 6 are known good.
    let mut writer = factory.resume_writer(6, None).await.unwrap().unwrap();
    writer.write_all(b"abcd").await.unwrap();
    writer.flush().await.unwrap();
    factory.commit().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"012345abcd");
}

#[tokio::test]
async fn resuming_past_what_was_written_is_refused() {
    let mut vec = b"abc".to_vec();
    assert!(vec.resume_writer(4, None).await.unwrap().is_none());
    let mut factory = AtomicFile::new("never-created");
    assert!(factory.resume_writer(0, None).await.unwrap().is_none());
    assert!(!Path::new("never-created").exists());
}

#[tokio::test]
async fn vec_and_slice_resume_at_an_offset() {
    let mut vec = b"0123456789".to_vec();
    vec.resume_writer(4, None)
        .await
        .unwrap()
        .unwrap()
        .write_all(b"xy")
        .await
        .unwrap();
    assert_eq!(vec, b"0123xy");

    let mut buffer = [0u8; 8];
    let mut factory = SliceFactory::new(&mut buffer);
    factory
        .writer(None)
        .await
        .unwrap()
        .write_all(b"012345")
        .await
        .unwrap();
    factory
        .resume_writer(2, None)
        .await
        .unwrap()
        .unwrap()
        .write_all(b"ab")
        .await
        .unwrap();
    assert_eq!(factory.into_filled(), b"01ab");
}

#[cfg(unix)]
#[tokio::test]
async fn atomic_file_gets_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut factory = AtomicFile::new(&path);
    attempts(&mut factory, &[b"x"]).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // 0666 minus whatever the umask removes; never tempfile's owner-only 0600.
    assert_ne!(mode & 0o044, 0, "mode {mode:o}");
}

#[tokio::test]
async fn atomic_file_resumed_at_an_unaligned_offset_keeps_every_byte() {
    // Blocks after an unaligned resume are realigned for direct I/O; the bytes must not shift.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd");
    let data: Vec<u8> = (0..(5 << 20) + 12_345)
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    let cut = (2 << 20) + 1000;
    let mut factory = AtomicFile::new(&path);
    let mut writer = factory.writer(None).await.unwrap();
    writer.write_all(&data[..cut + 5000]).await.unwrap();
    writer.flush().await.unwrap();
    let mut writer = factory
        .resume_writer(cut as u64, None)
        .await
        .unwrap()
        .unwrap();
    for piece in data[cut..].chunks(300_001) {
        writer.write_all(piece).await.unwrap();
    }
    writer.flush().await.unwrap();
    factory.commit().await.unwrap();
    assert!(std::fs::read(&path).unwrap() == data, "content differs");
}

#[tokio::test]
async fn atomic_file_past_the_writeback_window_keeps_every_byte() {
    // Large enough that writeback of earlier ranges starts while the file fills, and resumed
    // part-way, so the writeback bookkeeping restarts at an offset.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let block: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut factory = AtomicFile::new(&path);
    let mut writer = factory.writer(None).await.unwrap();
    for _ in 0..40 {
        writer.write_all(&block).await.unwrap();
    }
    writer.flush().await.unwrap();
    let mut writer = factory
        .resume_writer(36 << 20, None)
        .await
        .unwrap()
        .unwrap();
    for _ in 36..48 {
        writer.write_all(&block).await.unwrap();
    }
    writer.flush().await.unwrap();
    factory.commit().await.unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(written.len(), 48 << 20);
    assert!(written.chunks(1 << 20).all(|chunk| chunk == &block[..]));
}

#[cfg(unix)]
#[tokio::test]
async fn atomic_file_refuses_to_replace_what_is_not_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    // Regression: `-o /dev/null` once renamed a temp file over the device node.
    let dir = tempfile::tempdir().unwrap();
    for target in [Path::new("/dev/null"), dir.path()] {
        let mut factory = AtomicFile::new(target);
        let error = factory.writer(None).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.ends_with("is not a regular file; refusing to replace it"),
            "{message}"
        );
    }
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}
