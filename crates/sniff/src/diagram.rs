//! `--diagram FILE.svg`: one packet drawn as stacked layer boxes (scapy's
//! `pdfdump(layer_shift=1)`), each field at its bit position in 32-bit rows like the RFC
//! diagrams, with the bytes beneath. Plain SVG text that any browser opens.

use std::fmt::Write as _;

use netproto::frame::Frame;

use crate::dissect::{LayerView, dissect};

const BIT_W: f64 = 22.0;
const ROW_H: f64 = 38.0;
const HEX_H: f64 = 16.0;
const TITLE_H: f64 = 24.0;
const SHIFT: f64 = 18.0;
const MARGIN: f64 = 20.0;
/// Rows drawn per header at most (60 bytes: the largest IPv4/TCP header).
const MAX_ROWS: usize = 15;
/// Rows drawn for payload and padding (the rest is summarised).
const MAX_PAYLOAD_ROWS: usize = 4;

const COLORS: [&str; 6] = [
    "#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#f3f4f6",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fit(s: &str, px: f64, char_px: f64) -> String {
    let max = ((px - 4.0) / char_px).floor().max(0.0) as usize;
    if s.chars().count() <= max {
        s.to_owned()
    } else if max >= 2 {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    } else {
        String::new()
    }
}

/// Render the SVG document for `f` (frame number `n`, `title` for the caption).
pub fn render(f: &Frame<'_>, n: u64, title: &str) -> String {
    let layers = dissect(f);
    let d = f.data();
    let width = MARGIN * 2.0 + 32.0 * BIT_W + SHIFT * layers.len() as f64;
    let mut body = String::new();
    let mut y = MARGIN + 28.0;
    for (i, lv) in layers.iter().enumerate() {
        let x0 = MARGIN + SHIFT * i as f64;
        y = draw_layer(&mut body, lv, d, x0, y, COLORS[i % COLORS.len()]);
        y += 12.0;
    }
    let height = y + MARGIN;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">
<rect width="100%" height="100%" fill="white"/>
<text x="{MARGIN}" y="{:.0}" font-size="14" font-weight="bold">{}</text>
"#,
        MARGIN + 12.0,
        esc(&format!("frame {n}: {title}"))
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

fn draw_layer(out: &mut String, lv: &LayerView, d: &[u8], x0: f64, y0: f64, color: &str) -> f64 {
    let l = lv.layer;
    let rows_needed = (l.len * 8).div_ceil(32).max(1);
    let cap = match l.kind {
        netproto::frame::LayerKind::Raw | netproto::frame::LayerKind::Padding => MAX_PAYLOAD_ROWS,
        _ => MAX_ROWS,
    };
    let rows = rows_needed.min(cap);
    let cut = rows_needed > rows;
    let w = 32.0 * BIT_W;
    let h = TITLE_H + rows as f64 * (ROW_H + HEX_H) + if cut { 16.0 } else { 0.0 };
    let _ = writeln!(
        out,
        r##"<g><rect x="{x0:.1}" y="{y0:.1}" width="{w:.1}" height="{h:.1}" fill="{color}" stroke="#334155" stroke-width="1.2" rx="3"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">bytes {}–{} ({} bytes)</text>"#,
        x0 + 6.0,
        y0 + 16.0,
        esc(l.kind.name()),
        x0 + w - 6.0,
        y0 + 16.0,
        l.offset,
        l.offset + l.len.max(1) - 1,
        l.len
    );
    let top = y0 + TITLE_H;
    let layer_bit0 = l.offset * 8;
    let max_bit = rows * 32;
    // Field boxes, split at row ends.
    for fl in &lv.fields {
        let mut start = fl.bit.saturating_sub(layer_bit0);
        let end = (start + fl.bits).min(max_bit);
        let mut first = true;
        while start < end {
            let row = start / 32;
            let col = start % 32;
            let seg = (32 - col).min(end - start);
            let x = x0 + col as f64 * BIT_W;
            let y = top + row as f64 * (ROW_H + HEX_H);
            let sw = seg as f64 * BIT_W;
            let _ = writeln!(
                out,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{sw:.1}" height="{ROW_H:.1}" fill="white" fill-opacity="0.55" stroke="#64748b" stroke-width="0.8"><title>{}</title></rect>"##,
                esc(&format!(
                    "{} = {} (byte {}, bit {}, {} bits)",
                    fl.name,
                    fl.value,
                    fl.bit / 8,
                    fl.bit % 8,
                    fl.bits
                ))
            );
            let name = if first {
                fl.name.clone()
            } else {
                format!("{} (cont.)", fl.name)
            };
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#475569" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
                x + sw / 2.0,
                y + 13.0,
                esc(&fit(&name, sw, 5.6)),
                x + sw / 2.0,
                y + 29.0,
                esc(&fit(if first { &fl.value } else { "" }, sw, 6.8))
            );
            first = false;
            start += seg;
        }
    }
    // Bytes beneath each row.
    for row in 0..rows {
        let y = top + row as f64 * (ROW_H + HEX_H) + ROW_H + 12.0;
        for b in 0..4 {
            let idx = l.offset + row * 4 + b;
            if idx >= l.offset + l.len {
                break;
            }
            if let Some(byte) = d.get(idx) {
                let x = x0 + (b as f64 * 8.0 + 4.0) * BIT_W;
                let _ = writeln!(
                    out,
                    r##"<text x="{x:.1}" y="{y:.1}" font-size="10" fill="#1e293b" text-anchor="middle">{byte:02x}</text>"##
                );
            }
        }
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{y:.1}" font-size="9" fill="#94a3b8" text-anchor="end">@{}</text>"##,
            x0 - 2.0,
            l.offset + row * 4
        );
    }
    if cut {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#475569">… {} more bytes</text>"##,
            x0 + 6.0,
            y0 + h - 4.0,
            l.len - rows * 4
        );
    }
    out.push_str("</g>\n");
    y0 + h
}
