//! Dense (fully connected) layers with their weights packed once for a fast matrix product.
//!
//! The weight matrix `[out, in]` is stored as panels of [`PANEL`] output columns, each panel laid
//! out `[in][PANEL]`, so the product reads the weights strictly sequentially. A register tile of
//! up to six input rows by sixteen output columns accumulates over the whole input dimension
//! before it is stored: on x86-64 with AVX2 and FMA (detected at run time) the tile is a small
//! inline-assembly kernel (FMA on 256-bit registers, weights prefetched 4 KiB ahead); elsewhere a
//! portable version of the same tile is left to the compiler's auto-vectoriser.

/// Output columns per packed panel.
pub const PANEL: usize = 16;

/// Input rows per register tile.
const TILE_ROWS: usize = 6;

/// A dense layer `y = x · Wᵀ + b` with `W` of shape `[out_dim, in_dim]`.
#[derive(Debug, Clone)]
pub struct Linear {
    in_dim: usize,
    out_dim: usize,
    /// `ceil(out_dim / PANEL)` panels of `[in_dim][PANEL]`, padded with zero columns.
    packed: Vec<f32>,
    /// Bias padded to a whole number of panels.
    bias: Vec<f32>,
}

impl Linear {
    /// Packs a row-major weight matrix `[out_dim, in_dim]` (PyTorch's layout) and its bias.
    ///
    /// # Panics
    /// When a dimension is zero or the slices do not have `out_dim * in_dim` and `out_dim`
    /// elements.
    pub fn new(weight: &[f32], bias: &[f32], out_dim: usize, in_dim: usize) -> Linear {
        assert!(out_dim > 0 && in_dim > 0, "empty layer [{out_dim}, {in_dim}]");
        assert_eq!(weight.len(), out_dim * in_dim, "weight is not [{out_dim}, {in_dim}]");
        assert_eq!(bias.len(), out_dim, "bias is not [{out_dim}]");
        let panels = out_dim.div_ceil(PANEL);
        let mut packed = vec![0.0; panels * in_dim * PANEL];
        for (o, row) in weight.chunks_exact(in_dim).enumerate().take(out_dim) {
            let panel = &mut packed[(o / PANEL) * in_dim * PANEL..][..in_dim * PANEL];
            for (k, &w) in row.iter().enumerate() {
                panel[k * PANEL + o % PANEL] = w;
            }
        }
        let mut bias = bias.to_vec();
        bias.resize(panels * PANEL, 0.0);
        Linear { in_dim, out_dim, packed, bias }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// Computes `y = x · Wᵀ + b` for `x` of shape `[rows, in_dim]` into `y` of shape
    /// `[rows, out_dim]` (both row-major; `rows` is inferred from `x`).
    ///
    /// # Panics
    /// When `x.len()` is not a multiple of `in_dim` or `y` does not have `rows * out_dim` elements.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        let rows = x.len() / self.in_dim;
        assert_eq!(x.len(), rows * self.in_dim, "input is not [rows, {}]", self.in_dim);
        assert_eq!(y.len(), rows * self.out_dim, "output is not [{rows}, {}]", self.out_dim);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above); shapes are checked above.
            unsafe { avx2::matmul(self, x, rows, y) };
            return;
        }
        self.matmul_portable(x, rows, y);
    }

    /// `x · Wᵀ + b` as a new `[rows, out_dim]` vector.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let rows = x.len() / self.in_dim;
        let mut y = vec![0.0; rows * self.out_dim];
        self.forward(x, &mut y);
        y
    }

    /// The same product without SIMD intrinsics (used where AVX2/FMA are missing, and to test
    /// the intrinsic path against).
    pub fn forward_portable(&self, x: &[f32], y: &mut [f32]) {
        let rows = x.len() / self.in_dim;
        assert_eq!(x.len(), rows * self.in_dim, "input is not [rows, {}]", self.in_dim);
        assert_eq!(y.len(), rows * self.out_dim, "output is not [{rows}, {}]", self.out_dim);
        self.matmul_portable(x, rows, y);
    }

    fn matmul_portable(&self, x: &[f32], rows: usize, y: &mut [f32]) {
        for p in 0..self.bias.len() / PANEL {
            let mut r = 0;
            while r < rows {
                let m = TILE_ROWS.min(rows - r);
                match m {
                    6 => self.tile_portable::<6>(p, x, r, y),
                    5 => self.tile_portable::<5>(p, x, r, y),
                    4 => self.tile_portable::<4>(p, x, r, y),
                    3 => self.tile_portable::<3>(p, x, r, y),
                    2 => self.tile_portable::<2>(p, x, r, y),
                    _ => self.tile_portable::<1>(p, x, r, y),
                }
                r += m;
            }
        }
    }

    fn tile_portable<const M: usize>(&self, p: usize, x: &[f32], r: usize, y: &mut [f32]) {
        let k_dim = self.in_dim;
        let panel = &self.packed[p * k_dim * PANEL..][..k_dim * PANEL];
        let bias: &[f32; PANEL] = self.bias[p * PANEL..][..PANEL].try_into().expect("panel");
        let mut acc = [*bias; M];
        let x = &x[r * k_dim..][..M * k_dim];
        for (k, w) in panel.chunks_exact(PANEL).enumerate() {
            let w: &[f32; PANEL] = w.try_into().expect("panel row");
            for (i, acc) in acc.iter_mut().enumerate() {
                let a = x[i * k_dim + k];
                for (acc, &w) in acc.iter_mut().zip(w) {
                    *acc += a * w;
                }
            }
        }
        let col0 = p * PANEL;
        let cols = PANEL.min(self.out_dim - col0);
        for (i, acc) in acc.iter().enumerate() {
            y[(r + i) * self.out_dim + col0..][..cols].copy_from_slice(&acc[..cols]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The AVX2/FMA tile as inline assembly. Unlike intrinsics, which stay function calls in
    //! unoptimised builds, an `asm!` block runs at full speed in debug builds too, so the test
    //! suite (which embeds a few hundred sentences) is not a hundred times slower than release.

    use super::{Linear, PANEL, TILE_ROWS};

    /// # Safety
    /// The CPU must support AVX2 and FMA; `x` must be `[rows, in_dim]` and `y` `[rows, out_dim]`.
    pub(super) unsafe fn matmul(lin: &Linear, x: &[f32], rows: usize, y: &mut [f32]) {
        let k_dim = lin.in_dim;
        let mut partial = [0.0f32; TILE_ROWS * PANEL];
        for p in 0..lin.bias.len() / PANEL {
            let panel = lin.packed[p * k_dim * PANEL..][..k_dim * PANEL].as_ptr();
            let bias = lin.bias[p * PANEL..][..PANEL].as_ptr();
            let col0 = p * PANEL;
            let cols = PANEL.min(lin.out_dim - col0);
            let mut r = 0;
            while r < rows {
                let m = TILE_ROWS.min(rows - r);
                let xr = x[r * k_dim..][..m * k_dim].as_ptr();
                // Full panels are stored in place; the last, narrower one goes through `partial`.
                let (out, out_stride) = if cols == PANEL {
                    (y[r * lin.out_dim + col0..][..(m - 1) * lin.out_dim + PANEL].as_mut_ptr(), lin.out_dim)
                } else {
                    (partial.as_mut_ptr(), PANEL)
                };
                let tile = Tile {
                    x: xr,
                    x_stride: k_dim * 4,
                    w: panel,
                    k: k_dim,
                    bias,
                    y: out,
                    y_stride: out_stride * 4,
                };
                match m {
                    6 => tile.run6(),
                    5 => tile.run5(),
                    4 => tile.run4(),
                    3 => tile.run3(),
                    2 => tile.run2(),
                    _ => tile.run1(),
                }
                if cols < PANEL {
                    for i in 0..m {
                        y[(r + i) * lin.out_dim + col0..][..cols]
                            .copy_from_slice(&partial[i * PANEL..][..cols]);
                    }
                }
                r += m;
            }
        }
    }

    /// One tile: `m` rows of `x` (byte stride `x_stride`) times a `[k][16]` weight panel plus
    /// bias, written to `m` rows of 16 floats at `y` (byte stride `y_stride`).
    struct Tile {
        x: *const f32,
        x_stride: usize,
        w: *const f32,
        k: usize,
        bias: *const f32,
        y: *mut f32,
        y_stride: usize,
    }

    /// Generates `Tile::$name` for the listed rows: (accumulator low, accumulator high, input
    /// address, output address). Rows 0-2 are addressed from `x0`/`y0`, rows 3-5 from `x3`/`y3`.
    macro_rules! tile_kernel {
        ($name:ident: $(($lo:literal, $hi:literal, $xa:literal, $ya:literal)),+) => {
            impl Tile {
                #[inline(never)]
                unsafe fn $name(&self) {
                    std::arch::asm!(
                        // Names every operand: rows 3-5 and the strides are unused below four rows.
                        "/* {xs} {x3} {ys} {y3} */",
                        "vmovups ymm12, ymmword ptr [{b}]",
                        "vmovups ymm13, ymmword ptr [{b} + 32]",
                        $(concat!("vmovaps ", $lo, ", ymm12"), concat!("vmovaps ", $hi, ", ymm13"),)+
                        "test {k}, {k}",
                        "jz 3f",
                        "2:",
                        // The weights stream from memory once per product: fetch 4 KiB ahead.
                        "prefetcht0 byte ptr [{w} + 4096]",
                        "vmovups ymm12, ymmword ptr [{w}]",
                        "vmovups ymm13, ymmword ptr [{w} + 32]",
                        $(
                            concat!("vbroadcastss ymm14, dword ptr ", $xa),
                            concat!("vfmadd231ps ", $lo, ", ymm12, ymm14"),
                            concat!("vfmadd231ps ", $hi, ", ymm13, ymm14"),
                        )+
                        "add {x0}, 4",
                        "add {x3}, 4",
                        "add {w}, 64",
                        "dec {k}",
                        "jnz 2b",
                        "3:",
                        $(
                            concat!("vmovups ymmword ptr ", $ya, "], ", $lo),
                            concat!("vmovups ymmword ptr ", $ya, "+ 32], ", $hi),
                        )+
                        "vzeroupper",
                        b = in(reg) self.bias,
                        k = inout(reg) self.k => _,
                        w = inout(reg) self.w => _,
                        x0 = inout(reg) self.x => _,
                        x3 = inout(reg) self.x.wrapping_byte_add(3 * self.x_stride) => _,
                        xs = in(reg) self.x_stride,
                        y0 = in(reg) self.y,
                        y3 = in(reg) self.y.wrapping_byte_add(3 * self.y_stride),
                        ys = in(reg) self.y_stride,
                        out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
                        out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
                        out("ymm10") _, out("ymm11") _, out("ymm12") _, out("ymm13") _, out("ymm14") _,
                        options(nostack),
                    );
                }
            }
        };
    }

    tile_kernel!(run1: ("ymm0", "ymm1", "[{x0}]", "[{y0}"));
    tile_kernel!(run2: ("ymm0", "ymm1", "[{x0}]", "[{y0}"), ("ymm2", "ymm3", "[{x0} + {xs}]", "[{y0} + {ys}"));
    tile_kernel!(run3:
        ("ymm0", "ymm1", "[{x0}]", "[{y0}"),
        ("ymm2", "ymm3", "[{x0} + {xs}]", "[{y0} + {ys}"),
        ("ymm4", "ymm5", "[{x0} + {xs} * 2]", "[{y0} + {ys} * 2"));
    tile_kernel!(run4:
        ("ymm0", "ymm1", "[{x0}]", "[{y0}"),
        ("ymm2", "ymm3", "[{x0} + {xs}]", "[{y0} + {ys}"),
        ("ymm4", "ymm5", "[{x0} + {xs} * 2]", "[{y0} + {ys} * 2"),
        ("ymm6", "ymm7", "[{x3}]", "[{y3}"));
    tile_kernel!(run5:
        ("ymm0", "ymm1", "[{x0}]", "[{y0}"),
        ("ymm2", "ymm3", "[{x0} + {xs}]", "[{y0} + {ys}"),
        ("ymm4", "ymm5", "[{x0} + {xs} * 2]", "[{y0} + {ys} * 2"),
        ("ymm6", "ymm7", "[{x3}]", "[{y3}"),
        ("ymm8", "ymm9", "[{x3} + {xs}]", "[{y3} + {ys}"));
    tile_kernel!(run6:
        ("ymm0", "ymm1", "[{x0}]", "[{y0}"),
        ("ymm2", "ymm3", "[{x0} + {xs}]", "[{y0} + {ys}"),
        ("ymm4", "ymm5", "[{x0} + {xs} * 2]", "[{y0} + {ys} * 2"),
        ("ymm6", "ymm7", "[{x3}]", "[{y3}"),
        ("ymm8", "ymm9", "[{x3} + {xs}]", "[{y3} + {ys}"),
        ("ymm10", "ymm11", "[{x3} + {xs} * 2]", "[{y3} + {ys} * 2"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(w: &[f32], b: &[f32], x: &[f32], out: usize, inp: usize) -> Vec<f32> {
        let rows = x.len() / inp;
        let mut y = vec![0.0; rows * out];
        for r in 0..rows {
            for o in 0..out {
                y[r * out + o] = b[o] + (0..inp).map(|k| x[r * inp + k] * w[o * inp + k]).sum::<f32>();
            }
        }
        y
    }

    #[test]
    fn matches_a_naive_product_for_odd_shapes() {
        let mut seed = 7u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let shapes = (1..=13).map(|rows| (40, 23, rows)).chain([
            (16, 8, 1),
            (384, 384, 7),
            (5, 3, 6),
            (1536, 384, 20),
        ]);
        for (out, inp, rows) in shapes {
            let w: Vec<f32> = (0..out * inp).map(|_| rnd()).collect();
            let b: Vec<f32> = (0..out).map(|_| rnd()).collect();
            let x: Vec<f32> = (0..rows * inp).map(|_| rnd()).collect();
            let lin = Linear::new(&w, &b, out, inp);
            let expected = naive(&w, &b, &x, out, inp);
            let mut portable = vec![0.0; rows * out];
            lin.forward_portable(&x, &mut portable);
            for (got, want) in [(lin.apply(&x), &expected), (portable, &expected)] {
                let err = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                assert!(err < 1e-4, "{out}x{inp} rows {rows}: max error {err}");
            }
        }
    }
}
