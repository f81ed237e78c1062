// Files of a frame (src/sandbox/frames/FORMAT.md), written front to back from the worker thread.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace iquery {

/** A file appended through a 256 KiB buffer. Throws std::runtime_error naming the file on failure. */
class OutputFile {
 public:
  /** `readable`: opened for reading too (a codes file is read back when its column turns into plain strings). */
  explicit OutputFile(std::string path, bool readable = false) : path_(std::move(path)), buffer_(1 << 18) {
    descriptor_ = ::open(path_.c_str(), (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (descriptor_ < 0) fail("cannot create");
  }
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  ~OutputFile() {
    if (descriptor_ >= 0) ::close(descriptor_);
  }

  const std::string &path() const { return path_; }
  /** Bytes appended so far. */
  uint64_t size() const { return size_; }

  void append(const void *bytes, size_t count) {
    size_ += count;
    auto from = static_cast<const char *>(bytes);
    while (count > 0) {
      size_t room = buffer_.size() - used_;
      size_t take = count < room ? count : room;
      std::memcpy(buffer_.data() + used_, from, take);
      used_ += take;
      from += take;
      count -= take;
      if (used_ == buffer_.size()) flush();
    }
  }

  void close() {
    flush();
    if (::close(descriptor_) != 0) {
      descriptor_ = -1;
      fail("cannot close");
    }
    descriptor_ = -1;
  }

  /** Reads `count` bytes at `offset` of what was written (after a flush); used to rewrite codes. */
  void read_back(void *into, size_t count, uint64_t offset) {
    flush();
    auto to = static_cast<char *>(into);
    while (count > 0) {
      ssize_t got = ::pread(descriptor_, to, count, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("cannot read back");
      to += got;
      offset += static_cast<uint64_t>(got);
      count -= static_cast<size_t>(got);
    }
  }

 private:
  void flush() {
    size_t done = 0;
    while (done < used_) {
      ssize_t wrote = ::write(descriptor_, buffer_.data() + done, used_ - done);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) fail("cannot write");
      done += static_cast<size_t>(wrote);
    }
    used_ = 0;
  }

  [[noreturn]] void fail(const char *what) const {
    throw std::runtime_error(std::string(what) + " " + path_ + ": " + std::strerror(errno));
  }

  std::string path_;
  std::vector<char> buffer_;
  size_t used_ = 0;
  uint64_t size_ = 0;
  int descriptor_ = -1;
};

/**
 * A column's null bitmap (1 = valid, least significant bit first). The file is created at the first
 * null, with the rows before it marked valid; a column without nulls has no file.
 */
class ValidityFile {
 public:
  explicit ValidityFile(std::string path) : path_(std::move(path)) {}

  uint64_t nulls() const { return nulls_; }
  bool exists() const { return file_ != nullptr; }
  uint64_t size() const { return file_ == nullptr ? 0 : file_->size(); }
  const std::string &path() const { return path_; }

  /** Appends `count` rows of DuckDB's mask (uint64 words, or null for all valid). */
  void append(const uint64_t *mask, uint64_t count) {
    if (mask != nullptr && file_ == nullptr) {
      uint64_t nulls = 0;
      for (uint64_t word = 0; word * 64 < count; word++) nulls += 64 - bits_of(mask[word], count - word * 64);
      if (nulls == 0) mask = nullptr;
      else open();
    }
    if (file_ == nullptr) {
      rows_ += count;
      return;
    }
    for (uint64_t word = 0; word * 64 < count; word++) {
      uint64_t take = count - word * 64 < 64 ? count - word * 64 : 64;
      uint64_t bits = mask == nullptr ? ~uint64_t(0) : mask[word];
      if (take < 64) bits &= (uint64_t(1) << take) - 1;
      nulls_ += take - static_cast<uint64_t>(__builtin_popcountll(bits));
      push(bits, take);
    }
    rows_ += count;
  }

  /** Appends one row. */
  void append_one(bool valid) {
    if (!valid && file_ == nullptr) open();
    if (file_ == nullptr) {
      rows_++;
      return;
    }
    if (!valid) nulls_++;
    push(valid ? 1 : 0, 1);
    rows_++;
  }

  void close() {
    if (file_ == nullptr) return;
    if (pending_bits_ > 0) {
      uint64_t bytes = (pending_bits_ + 7) / 8;
      file_->append(&pending_, bytes);
      pending_bits_ = 0;
    }
    file_->close();
  }

 private:
  static uint64_t bits_of(uint64_t word, uint64_t rows) {
    if (rows < 64) word |= ~((uint64_t(1) << rows) - 1);  // rows past the end count as valid
    return static_cast<uint64_t>(__builtin_popcountll(word));
  }

  void open() {
    file_ = std::make_unique<OutputFile>(path_);
    uint64_t before = rows_;
    rows_ = 0;
    for (; before >= 64; before -= 64) push(~uint64_t(0), 64);
    if (before > 0) push((uint64_t(1) << before) - 1, before);
  }

  /** Appends the low `count` bits of `bits` (the rest zero). */
  void push(uint64_t bits, uint64_t count) {
    pending_ |= pending_bits_ == 0 ? bits : bits << pending_bits_;
    uint64_t total = pending_bits_ + count;
    if (total >= 64) {
      file_->append(&pending_, 8);
      pending_ = pending_bits_ == 0 ? 0 : bits >> (64 - pending_bits_);
      total -= 64;
    }
    pending_bits_ = total;
    if (pending_bits_ == 0) pending_ = 0;
  }

  std::string path_;
  std::unique_ptr<OutputFile> file_;
  uint64_t rows_ = 0;
  uint64_t nulls_ = 0;
  uint64_t pending_ = 0;
  uint64_t pending_bits_ = 0;
};

}  // namespace iquery
