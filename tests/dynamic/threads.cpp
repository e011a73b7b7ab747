// Dynamic test program (g++, libstdc++): std::thread with a mutex and a condition variable.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

int main()
{
	std::mutex m;
	std::condition_variable cv;
	std::queue<int> q;
	long total = 0, counter = 0;
	bool done = false;
	std::thread consumer([&] {
		std::unique_lock<std::mutex> lk(m);
		for (;;) {
			cv.wait(lk, [&] { return !q.empty() || done; });
			while (!q.empty()) {
				total += q.front();
				q.pop();
			}
			if (done)
				return;
		}
	});
	std::vector<std::thread> producers;
	for (int p = 0; p < 4; p++)
		producers.emplace_back([&, p] {
			for (int i = 1; i <= 1000; i++) {
				std::lock_guard<std::mutex> lk(m);
				q.push(i * (p + 1));
				counter++;
				cv.notify_one();
			}
		});
	for (auto &t : producers)
		t.join();
	{
		std::lock_guard<std::mutex> lk(m);
		done = true;
	}
	cv.notify_one();
	consumer.join();
	std::printf("c++ threads: %ld items, total %ld\n", counter, total);
	return 0;
}
