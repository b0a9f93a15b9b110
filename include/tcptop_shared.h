/* Records shared by the BPF programs (bpf/) and user space (src/).
 * Only fixed-width __u* types: this header is compiled by clang -target bpf against
 * vmlinux.h and by the host compiler against <linux/types.h>. */
#ifndef TCPTOP_SHARED_H
#define TCPTOP_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TCPTOP_COMM_LEN 16

/* vmlinux.h carries no macros: the few constants both sides need. */
#define TCPTOP_AF_INET 2
#define TCPTOP_AF_INET6 10
#define TCPTOP_PROTO_TCP 6
#define TCPTOP_PROTO_UDP 17

/* Kernel TCP states (include/net/tcp_states.h); UDP rows carry TCPTOP_STATE_NONE. */
#define TCPTOP_STATE_NONE 0
#define TCPTOP_TCP_ESTABLISHED 1
#define TCPTOP_TCP_SYN_SENT 2
#define TCPTOP_TCP_FIN_WAIT1 4
#define TCPTOP_TCP_FIN_WAIT2 5
#define TCPTOP_TCP_TIME_WAIT 6
#define TCPTOP_TCP_CLOSE 7
#define TCPTOP_TCP_CLOSE_WAIT 8
#define TCPTOP_TCP_LAST_ACK 9
#define TCPTOP_TCP_LISTEN 10
#define TCPTOP_TCP_CLOSING 11
#define TCPTOP_TCP_NEW_SYN_RECV 12
#define TCPTOP_TCP_MAX_STATES 14

/* A flow is one TCP socket, or one (UDP socket, remote peer) pair. TCP keys and the
 * UDP "unknown peer" flow leave the peer fields zero. Socket cookies are unique for
 * the life of the boot, so a key never comes back for a different socket. */
struct flow_key {
	__u64 cookie;
	__u8 peer_addr[16]; /* IPv4 in the first 4 bytes, v4-mapped v6 normalised to v4 */
	__u16 peer_port;    /* host order */
	__u8 peer_family;   /* TCPTOP_AF_INET, TCPTOP_AF_INET6 or 0 */
	__u8 pad[5];
};

/* Who owns the socket and what it connects; captured at first sight because the kernel
 * zeroes the tuple by the time of the final CLOSE. */
struct flow_identity {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport; /* host order */
	__u16 rport; /* host order, 0 when there is no peer */
	__u8 family; /* of the addresses, after v4-mapped normalisation */
	__u8 proto;  /* TCPTOP_PROTO_TCP or TCPTOP_PROTO_UDP */
	__u8 pad[2];
	__u64 first_seen_ns; /* CLOCK_MONOTONIC of the first event, 0 when not known */
	__u32 tgid;  /* 0 until seen in process context */
	__u32 netns; /* network namespace inode number */
	__u32 ifindex; /* device the flow's packets use, 0 when not known yet */
	char comm[TCPTOP_COMM_LEN]; /* thread-group leader's name */
	__u32 pad2; /* explicit, so that identities compare with memcmp */
	/* The socket's cgroup v2 id (its directory's inode number in cgroupfs), set when
	 * the socket was created (an accepted one's is its listener's); 0 when not known. */
	__u64 cgroup_id;
};

/* How a TCP connection is doing (the sendq, recvq, cwnd, delivery_rate and limited
 * columns), as its socket said at the last sample: a copy, not a counter. The modern set
 * samples it at each send, receive and state change, and, only while a column asks for
 * them, at each incoming segment (tcp_probe) and data arrival (sk_data_ready); the compat
 * set fills cwnd and the delivery rate only. known says which fields hold a sample.
 * chrono_*: the kernel's chrono accounting (tcp_get_info_chrono_stats), in jiffies: time
 * spent busy, rwnd limited and sndbuf limited before chrono_start, and the kind of time
 * running since chrono_start (chrono_type, TCPTOP_CHRONO_*). */
struct flow_tcp_health {
	__u32 sendq;            /* write_seq - snd_una: written, not yet acknowledged */
	__u32 recvq;            /* rcv_nxt - copied_seq: received, not yet read */
	__u32 cwnd;             /* snd_cwnd, segments */
	__u32 rate_delivered;   /* segments delivered over rate_interval_us (tcp_info's */
	__u32 rate_interval_us; /* delivery rate: rate_delivered * mss / rate_interval_us) */
	__u32 chrono_stat[3];   /* jiffies busy, rwnd limited, sndbuf limited */
	__u32 chrono_start;     /* jiffies */
	__u16 mss_cache;
	__u8 chrono_type;
	__u8 known; /* TCPTOP_HEALTH_* */
};

#define TCPTOP_HEALTH_QUEUES 1 /* sendq, recvq */
#define TCPTOP_HEALTH_CWND 2   /* cwnd, rate_delivered, rate_interval_us, mss_cache */
#define TCPTOP_HEALTH_CHRONO 4 /* chrono_* */

/* The kernel's enum tcp_chrono. */
#define TCPTOP_CHRONO_NONE 0 /* nothing to send: the application */
#define TCPTOP_CHRONO_BUSY 1
#define TCPTOP_CHRONO_RWND 2
#define TCPTOP_CHRONO_SNDBUF 3

/* Monotonic cumulative counters since tcptop first saw the flow. TCP packet and retransmit
 * counts come from the socket's own counters minus their value at first sight; so do TCP
 * bytes in the compat hook set (bytes_acked/bytes_received minus the *_bytes_base). */
struct flow_counters {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 rx_packets;
	__u64 tx_bytes_base; /* compat set, TCP: bytes_acked at first sight */
	__u64 rx_bytes_base; /* compat set, TCP: bytes_received at first sight */
	__u32 srtt_us;   /* smoothed RTT, TCP only */
	__u32 retrans;
	__u32 segs_out_base;
	__u32 segs_in_base;
	__u32 retrans_base;
	__u8 state;      /* kernel TCP state, TCPTOP_STATE_NONE for UDP */
	__u8 flags;      /* TCP: TCPTOP_COMPAT_FIN_IN, TCPTOP_CLOSE_KEPT, TCPTOP_BORN_IN_SLOT */
	/* How a TCP connection ended (the closed-connection log): the state it left for
	 * CLOSE, the kernel's error on it then (ETIMEDOUT, ECONNRESET...; 0: none), and when
	 * (CLOCK_MONOTONIC; 0 while open). */
	__u8 end_state;
	__u8 end_errno;
	__u64 ended_ns;
	struct flow_tcp_health health; /* TCP only */
};

/* flags. Compat set: the peer's FIN arrived in order (bytes_received counts it as one
 * byte). Modern set: the close record found the ring full, so the slot holds the final
 * counts and waits for user space to close the flow and free it; and the socket was
 * born after the start-up walk and took its slot then, so that no flow of it can reach
 * user space but through this slot. */
#define TCPTOP_COMPAT_FIN_IN 1
#define TCPTOP_CLOSE_KEPT 2
#define TCPTOP_BORN_IN_SLOT 4

/* A TCP slot's dirty word (bpf/flow_slots.h): changed since user space last read the slot,
 * and whether its owner was checked since. User space swaps it back to CLEAN. */
#define TCPTOP_SLOT_CLEAN 0
#define TCPTOP_SLOT_CHANGED 1
#define TCPTOP_SLOT_OWNED 2

struct flow_value {
	struct flow_identity id;
	struct flow_counters counters;
};

/* A flow whole: the final record of a closing TCP connection, sent through the ring
 * buffer before its map entry is removed so that no bytes are lost; and a slot of the
 * modern set's TCP slot array (bpf/flow_slots.h), where key.cookie 0 marks a free slot. */
struct flow_record {
	struct flow_key key;
	struct flow_value value;
};

/* A close record as the ring carries it: the flow whole, and the slot it had (+ 1; 0 when
 * it had none: the compat set, the start-up walk's entries). User space finds the flow by
 * its slot then, not by a hash lookup of its key. */
struct flow_close_record {
	struct flow_record rec;
	__u32 slot_plus_one;
	__u32 pad;
};

/* Records written by the start-up iterators (bpf_seq_write), read from the iterator fd. */
struct walk_socket_record {
	__u64 cookie;
	struct flow_identity id;
	__u8 state;
	__u8 pad[7];
};

struct walk_owner_record {
	__u64 cookie;
	__u32 tgid;
	__u32 pad;
	char comm[TCPTOP_COMM_LEN];
};

#endif
