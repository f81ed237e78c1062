// Chunks handed from the thread that fetches them (DuckDB's side: scanning, decompressing, computing)
// to the thread that writes them, so that the two overlap.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "duckdb_c.h"

namespace iquery {

class ChunkPipe {
 public:
  explicit ChunkPipe(size_t capacity) : capacity_(capacity) {}
  ChunkPipe(const ChunkPipe &) = delete;
  ChunkPipe &operator=(const ChunkPipe &) = delete;
  ~ChunkPipe() {
    for (auto chunk : queue_) duckdb_destroy_data_chunk(&chunk);
  }

  /** Producer: waits while the pipe is full. False when the consumer stopped (the chunk is destroyed). */
  bool push(duckdb_data_chunk chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [this] { return queue_.size() < capacity_ || stopped_; });
    if (stopped_) {
      duckdb_destroy_data_chunk(&chunk);
      return false;
    }
    queue_.push_back(chunk);
    ready_.notify_one();
    return true;
  }

  /** Producer: no more chunks. */
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    ready_.notify_one();
  }

  /** Consumer: the next chunk (the caller destroys it), or nullptr at the end. */
  duckdb_data_chunk pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return nullptr;
    duckdb_data_chunk chunk = queue_.front();
    queue_.pop_front();
    room_.notify_one();
    return chunk;
  }

  /** Consumer: wants no more chunks; the producer's next push fails. */
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    room_.notify_all();
  }

  bool stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<duckdb_data_chunk> queue_;
  bool closed_ = false;
  bool stopped_ = false;
};

/**
 * Fetches every chunk of `result` on its own thread into `pipe`. The destructor stops and joins it,
 * so the result outlives the thread however the writer leaves.
 */
class ChunkFetcher {
 public:
  ChunkFetcher(duckdb_result &result, ChunkPipe &pipe) : pipe_(pipe) {
    thread_ = std::thread([&result, &pipe] {
      while (!pipe.stopped()) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
        if (chunk == nullptr) break;
        if (duckdb_data_chunk_get_size(chunk) == 0) {
          duckdb_destroy_data_chunk(&chunk);
          break;
        }
        if (!pipe.push(chunk)) break;
      }
      pipe.close();
    });
  }
  ChunkFetcher(const ChunkFetcher &) = delete;
  ChunkFetcher &operator=(const ChunkFetcher &) = delete;
  ~ChunkFetcher() { finish(); }

  /** Waits for the thread; stops it first when the writer did not read to the end. */
  void finish() {
    if (!thread_.joinable()) return;
    pipe_.stop();
    thread_.join();
  }

 private:
  ChunkPipe &pipe_;
  std::thread thread_;
};

}  // namespace iquery
