//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Deterministic pseudo-random numbers (xorshift64*), without a rand crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform enough in 0..n for tests.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Deterministic pseudo-random bytes.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Exit status and both output streams of a finished command, for assertion messages.
pub fn describe(out: &std::process::Output) -> String {
    format!(
        "status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Path of the real veritysetup. Panics (the tests must fail, not skip) when it is absent.
pub fn veritysetup() -> std::path::PathBuf {
    let mut candidates: Vec<std::path::PathBuf> =
        ["/usr/sbin/veritysetup", "/sbin/veritysetup", "/usr/bin/veritysetup"]
            .iter()
            .map(std::path::PathBuf::from)
            .collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("veritysetup")));
    }
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "veritysetup was not found in /usr/sbin, /sbin, /usr/bin or PATH. These compatibility tests \
             need the real cryptsetup veritysetup (2.6.1); install it (Debian: apt-get install cryptsetup-bin)."
        )
    })
}

/// The hex after `Root hash:` (and white space) in `veritysetup format` output.
pub fn parse_root_hash(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Root hash:"))
        .unwrap_or_else(|| panic!("no 'Root hash:' line in output:\n{text}"));
    let rest = &line["Root hash:".len()..];
    assert!(rest.starts_with(char::is_whitespace), "no white space after 'Root hash:' in {line:?}");
    let hex = rest.trim();
    assert!(
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "root hash {hex:?} is not lowercase hex"
    );
    hex.to_string()
}

/// How the library tests hash: with the backend CI forces through
/// `ROOTSEAL_HASH_BACKEND` (the library never reads the variable; the CLI does), else
/// the automatic choice. Every core.
pub fn run_options() -> rootseal::verity::RunOptions<'static> {
    let backend = std::env::var(rootseal::verity::HASH_BACKEND_ENV)
        .ok()
        .filter(|name| !name.trim().is_empty())
        .map(|name| rootseal::verity::HashBackend::from_name(&name).expect("a known backend name"));
    let hashing = rootseal::verity::HashChoice { backend, fips: None };
    rootseal::verity::RunOptions { hashing, ..Default::default() }
}
