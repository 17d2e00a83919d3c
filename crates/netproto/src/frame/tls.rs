//! The server name (SNI, RFC 6066) a TLS ClientHello asks for, from the first TLS record of a
//! TCP payload: the one name an encrypted connection shows in clear (tcpdump does not decode
//! TLS; Wireshark's `tls.handshake.extensions_server_name`).

/// What the start of a TCP payload says as TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsHello<'a> {
    /// A ClientHello: the legacy version it offers and the host name of its SNI extension
    /// (`None`: no SNI; a ClientHello cut by the capture or split over segments before the
    /// extension also gives `None`).
    ClientHello {
        version: u16,
        server_name: Option<&'a [u8]>,
    },
}

/// A TLS handshake record carrying a ClientHello at the start of `p`, or `None`.
pub fn client_hello(p: &[u8]) -> Option<TlsHello<'_>> {
    // Record: type 22 (handshake), version 3.x, length; handshake: type 1, 24-bit length.
    let head = p.get(..6)?;
    if head[0] != 22 || head[1] != 3 || head[5] != 1 {
        return None;
    }
    let rest = p.get(9..)?;
    let version = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
    if version >> 8 != 3 {
        return None;
    }
    Some(TlsHello::ClientHello {
        version,
        server_name: server_name(rest),
    })
}

/// Walk the ClientHello body (from its version) to the server_name extension's first host
/// name.
fn server_name(body: &[u8]) -> Option<&[u8]> {
    let mut r = Cursor(body);
    r.skip(2 + 32)?; // version, random
    let sid = r.u8()?;
    r.skip(sid.into())?;
    let suites = r.u16()?;
    r.skip(suites.into())?;
    let comp = r.u8()?;
    r.skip(comp.into())?;
    let ext_len = r.u16()?;
    let mut ext = Cursor(r.take(ext_len.into()).unwrap_or(r.0));
    while let (Some(ty), Some(len)) = (ext.u16(), ext.u16()) {
        let data = ext.take(len.into())?;
        if ty != 0 {
            continue;
        }
        // server_name_list: length, then (type, length, name)…; type 0 is host_name.
        let mut list = Cursor(data);
        let n = list.u16()?;
        let mut list = Cursor(list.take(n.into())?);
        while let (Some(kind), Some(len)) = (list.u8(), list.u16()) {
            let name = list.take(len.into())?;
            if kind == 0 {
                return Some(name);
            }
        }
        return None;
    }
    None
}

/// Bounds-checked reads from the front of a slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello with one cipher suite, no session id, and the SNI `name`.
    pub(crate) fn hello(name: &[u8]) -> Vec<u8> {
        let mut sni = vec![0, 0];
        let list_len = (3 + name.len()) as u16;
        sni.extend_from_slice(&(list_len + 2).to_be_bytes());
        sni.extend_from_slice(&list_len.to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        // A padding extension (21) first, then SNI.
        let mut exts = vec![0, 21, 0, 2, 0, 0];
        exts.extend_from_slice(&sni);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn server_name_found_and_cut_safely() {
        let h = hello(b"example.test");
        assert_eq!(
            client_hello(&h),
            Some(TlsHello::ClientHello {
                version: 0x0303,
                server_name: Some(&b"example.test"[..])
            })
        );
        for n in 0..h.len() {
            // Every cut: no panic; a ClientHello once the handshake type and version are in.
            let got = client_hello(&h[..n]);
            assert_eq!(got.is_some(), n >= 11, "{n}");
            if n < h.len() {
                assert!(
                    !matches!(got, Some(TlsHello::ClientHello { server_name: Some(s), .. }) if s != b"example.test"),
                    "{n}"
                );
            }
        }
        assert_eq!(client_hello(b"GET / HTTP/1.1\r\n"), None);
    }
}
