//! The socket options socket2 lacks: don't-fragment and the kernel's path MTU.
//!
//! This is the only module of udp-sdu with `unsafe` code (the workspace denies it): two
//! `setsockopt`/`getsockopt` calls on a file descriptor we own, each in the smallest function.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

/// Set an `int` socket option.
#[allow(unsafe_code)]
fn set_int(
    sock: &UdpSocket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the fd is a live socket borrowed from `sock` for the duration of the call; the
    // option value points to a c_int on our stack and the length passed is its exact size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&raw const value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Read an `int` socket option.
#[allow(unsafe_code)]
fn get_int(sock: &UdpSocket, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is a live socket borrowed from `sock`; value and len point to stack
    // variables of the sizes the kernel is told, and outlive the call.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&raw mut value).cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    if r == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Forbid fragmentation: sends larger than the path MTU fail with EMSGSIZE
/// (IPv4: IP_MTU_DISCOVER = IP_PMTUDISC_DO; IPv6: the same plus IPV6_DONTFRAG).
pub fn set_dont_fragment(sock: &UdpSocket, ipv6: bool) -> io::Result<()> {
    if ipv6 {
        set_int(
            sock,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )?;
        set_int(sock, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, 1)
    } else {
        set_int(
            sock,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DO,
        )
    }
}

/// The kernel's current path MTU towards the peer of a connected socket (IP_MTU / IPV6_MTU).
pub fn path_mtu(sock: &UdpSocket, ipv6: bool) -> io::Result<u32> {
    let v = if ipv6 {
        get_int(sock, libc::IPPROTO_IPV6, libc::IPV6_MTU)?
    } else {
        get_int(sock, libc::IPPROTO_IP, libc::IP_MTU)?
    };
    Ok(v.max(0) as u32)
}
