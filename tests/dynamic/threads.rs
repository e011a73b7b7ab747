// Dynamic test program (rustc, std): std::thread with mpsc channels, Arc<Mutex>, a spinning AtomicBool.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel();
    let counter = Arc::new(Mutex::new(0u64));
    let mut handles = Vec::new();
    for id in 0..4u64 {
        let tx = tx.clone();
        let counter = Arc::clone(&counter);
        handles.push(thread::spawn(move || {
            for i in 1..=1000u64 {
                *counter.lock().unwrap() += 1;
                tx.send(id * 1000 + i).unwrap();
            }
        }));
    }
    drop(tx);
    let total: u64 = rx.iter().sum();
    for h in handles {
        h.join().unwrap();
    }
    // A thread that spins (no system call) until another sets the flag, while the main thread spins until
    // it has seen the spinner run: each needs preemption on one vCPU, whatever the machine's load.
    let flag = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (f2, s2) = (Arc::clone(&flag), Arc::clone(&started));
    let spinner = thread::spawn(move || {
        let mut n = 0u64;
        loop {
            s2.store(true, Ordering::Release);
            if f2.load(Ordering::Acquire) {
                break;
            }
            n = n.wrapping_add(1);
        }
        n > 0
    });
    let mut x = 1u64;
    for i in 0..50_000_000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    while !started.load(Ordering::Acquire) {
        std::hint::spin_loop();
    }
    flag.store(true, Ordering::Release);
    let spun = spinner.join().unwrap();
    println!("rust threads: {} sends, total {}, counter {}, spinner ran {}, x {}", 4000, total,
             *counter.lock().unwrap(), spun, x % 1000);
}
