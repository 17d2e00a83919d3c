//! UDP generic segmentation offload (`UDP_SEGMENT`) and generic receive offload (`UDP_GRO`):
//! a window's segments in one `sendmsg`, and the datagrams the kernel coalesced in one
//! `recvmsg`. The only module of arq-udp with `unsafe` code (the workspace denies it): one
//! `sendmsg` and one `recvmsg` with a control message, each in the smallest function, on a
//! socket we own, with every pointer into buffers that outlive the call.
//!
//! Why socket2 + libc and not quinn-udp: see `docs/transfer.md` (event loop).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use socket2::SockAddr;

/// Whether the offloads may be used: `NETLAB_ARQ_OFFLOAD=off` (or `0`, `no`) forces one
/// datagram per system call, so that tests run both paths.
pub fn allowed_by_env() -> bool {
    !matches!(
        std::env::var("NETLAB_ARQ_OFFLOAD").as_deref(),
        Ok("off" | "0" | "no" | "false")
    )
}

/// Turn on UDP_GRO (the kernel hands coalesced datagrams to `recvmsg` with their size in a
/// control message). Fails on kernels before 5.0.
#[allow(unsafe_code)]
pub fn enable_gro(sock: &impl AsRawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: the fd is a live socket borrowed from `sock` for the call; the option value
    // points to a c_int on our stack and the length is its exact size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_UDP,
            libc::UDP_GRO,
            (&raw const one).cast::<libc::c_void>(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the kernel knows UDP_SEGMENT (reading the option succeeds: Linux ≥ 4.18).
#[allow(unsafe_code)]
pub fn gso_supported(sock: &impl AsRawFd) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: live fd; value and len point to stack variables of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_UDP,
            libc::UDP_SEGMENT,
            (&raw mut v).cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    r == 0
}

/// Room for one control message carrying a u16 or an int (CMSG_SPACE(4) is 16 on 64-bit
/// Linux; 64 leaves margin and stays aligned).
#[repr(C, align(8))]
struct Cmsg([u8; 64]);

/// Send `buf`, a run of datagrams of `segment` bytes each (the last may be shorter), in one
/// `sendmsg` with UDP_SEGMENT; to `to` or, if None, to the connected peer. Returns the
/// bytes sent. EIO/EINVAL/ENOPROTOOPT/EOPNOTSUPP/EMSGSIZE mean the kernel or the route
/// refuses GSO (no checksum offload on the device, an old kernel, a segment larger than the
/// route's MTU): the caller falls back.
#[allow(unsafe_code)]
pub fn send_gso(
    sock: &impl AsRawFd,
    to: Option<SocketAddr>,
    buf: &[u8],
    segment: u16,
) -> io::Result<usize> {
    let addr = to.map(SockAddr::from);
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast::<libc::c_void>(),
        iov_len: buf.len(),
    };
    let mut cmsg = Cmsg([0; 64]);
    // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { zeroed() };
    if let Some(a) = &addr {
        msg.msg_name = a.as_ptr().cast_mut().cast::<libc::c_void>();
        msg.msg_namelen = a.len();
    }
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast::<libc::c_void>();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as _;
    // SAFETY: msg_control points to `cmsg`, 64 aligned bytes, more than CMSG_SPACE(2), so
    // CMSG_FIRSTHDR returns a pointer inside it and CMSG_DATA has room for the u16; `msg`,
    // `iov`, `buf`, `addr` and `cmsg` all outlive the sendmsg call, which only reads them.
    let r = unsafe {
        let c = libc::CMSG_FIRSTHDR(&raw const msg);
        if c.is_null() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = libc::UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), segment);
        libc::sendmsg(sock.as_raw_fd(), &raw const msg, 0)
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Whether a `send_gso` error means "no GSO here" rather than a network error.
pub fn gso_refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP | libc::EMSGSIZE)
    )
}

/// One `recvmsg`: the bytes, the source, and the size of each coalesced datagram (UDP_GRO's
/// control message; the bytes are one datagram when there is none).
#[allow(unsafe_code)]
pub fn recv_gro(
    sock: &impl AsRawFd,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<u16>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
        iov_len: buf.len(),
    };
    let mut cmsg = Cmsg([0; 64]);
    // SAFETY: an all-zero sockaddr_storage and msghdr are valid.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut storage).cast::<libc::c_void>();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = cmsg.0.len() as _;
    // SAFETY: every pointer in `msg` points to a live buffer of the length given; the kernel
    // writes at most those lengths.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &raw mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut gro = None;
    // SAFETY: the kernel set msg_controllen to what it wrote into `cmsg`; CMSG_FIRSTHDR and
    // CMSG_NXTHDR stay inside that; a UDP_GRO message carries an int.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                gro = u16::try_from(v).ok().filter(|&s| s > 0);
            }
            c = libc::CMSG_NXTHDR(&raw const msg, c);
        }
    }
    let from = match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote an AF_INET address, a sockaddr_in, which fits in
            // sockaddr_storage and has a smaller alignment.
            let a: libc::sockaddr_in =
                unsafe { std::ptr::read((&raw const storage).cast::<libc::sockaddr_in>()) };
            SocketAddr::from((
                std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            ))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a: libc::sockaddr_in6 =
                unsafe { std::ptr::read((&raw const storage).cast::<libc::sockaddr_in6>()) };
            SocketAddr::V6(std::net::SocketAddrV6::new(
                std::net::Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            ))
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an IP source address",
            ));
        }
    };
    Ok((n as usize, from, gro))
}
