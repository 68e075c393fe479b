//! The machine's peak single-precision FLOP rate, measured rather than looked up (virtual
//! machines report no reliable clock): every thread runs a loop of independent fused
//! multiply-adds on the widest vectors the CPU has, long enough to swamp the start-up.

use std::time::Instant;

/// A measured peak: FLOP/s over all threads, and the instructions that reached it.
#[derive(Clone, Debug)]
pub struct Peak {
    pub flops_per_second: f64,
    pub threads: usize,
    pub isa: &'static str,
}

/// Independent accumulators per thread: enough to cover the FMA latency (4–5 cycles) on
/// two FMA ports.
const CHAINS: usize = 12;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    /// `iterations` rounds of CHAINS dependent-chain FMAs on 16-lane vectors.
    #[target_feature(enable = "avx512f")]
    pub fn fma512(iterations: usize) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..iterations {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let mut sum = _mm512_setzero_ps();
        for x in acc {
            sum = _mm512_add_ps(sum, x);
        }
        _mm512_reduce_add_ps(sum)
    }

    /// The same on 8-lane vectors.
    #[target_feature(enable = "avx2,fma")]
    pub fn fma256(iterations: usize) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..iterations {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0f32; 8];
        let mut sum = _mm256_setzero_ps();
        for x in acc {
            sum = _mm256_add_ps(sum, x);
        }
        // SAFETY: `lanes` holds the 8 floats written.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}

/// Portable fallback: scalar multiply-adds (the compiler may vectorise them).
fn scalar(iterations: usize) -> f32 {
    let mut acc = [1.0f32; CHAINS * 8];
    for _ in 0..iterations {
        for x in acc.iter_mut() {
            *x = *x * 0.999_999 + 1e-7;
        }
    }
    acc.iter().sum()
}

/// A peak kernel: its name, the FLOPs of one iteration, and the loop itself.
type Kernel = (&'static str, usize, fn(usize) -> f32);

/// The kernels this CPU can run, widest first.
fn kernels() -> Vec<Kernel> {
    let mut k: Vec<Kernel> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            k.push(("avx512 fma", CHAINS * 16 * 2, |n| unsafe { x86::fma512(n) }));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            k.push(("avx2 fma", CHAINS * 8 * 2, |n| unsafe { x86::fma256(n) }));
        }
    }
    k.push(("scalar mul+add", CHAINS * 8 * 2, scalar));
    k
}

/// FLOP/s of one kernel on `threads` threads (best of three rounds of about 0.2 s).
fn measure(threads: usize, flops_per_iteration: usize, kernel: fn(usize) -> f32) -> f64 {
    let iterations = 20_000_000 / flops_per_iteration.max(1) * 16;
    let round = || {
        let start = Instant::now();
        let sink: f32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(move || kernel(std::hint::black_box(iterations))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("peak thread"))
                .sum()
        });
        std::hint::black_box(sink);
        (threads * iterations * flops_per_iteration) as f64 / start.elapsed().as_secs_f64()
    };
    round();
    (0..3).map(|_| round()).fold(0.0, f64::max)
}

/// The peak on `threads` threads with the widest FMA this CPU has, and with each narrower
/// kind (so a kernel limited to AVX2 can be read against the AVX2 peak too).
pub fn measure_peaks(threads: usize) -> Vec<Peak> {
    kernels()
        .into_iter()
        .map(|(isa, flops, kernel)| Peak {
            flops_per_second: measure(threads.max(1), flops, kernel),
            threads: threads.max(1),
            isa,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_computes_the_same_recurrence() {
        // x ← 0.999999·x + 1e-7 from 1, a few steps: every kernel's lanes agree.
        let n = 10;
        let mut x = 1.0f32;
        for _ in 0..n {
            x = x * 0.999_999 + 1e-7;
        }
        for (isa, flops, kernel) in kernels() {
            let lanes = (flops / 2) as f32;
            let got = kernel(n);
            assert!(
                (got / lanes - x).abs() < 1e-5,
                "{isa}: {got} over {lanes} lanes vs {x}"
            );
        }
    }
}
