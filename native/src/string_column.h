// A VARCHAR column of a frame: dictionary-encoded (`category`) while that pays, plain `string` after.
// The rule matches the TypeScript writer (frame-writer.ts): plain once there are more than 100 000
// distinct values and they are more than half of the rows so far, or the distinct values pass 256 MiB.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "output_file.h"

namespace iquery {

/** DuckDB's string_t: a length, then the bytes inline up to 12, else a 4-byte prefix and a pointer. */
struct StringRecord {
  uint32_t length;
  char prefix[4];
  union {
    char rest[8];
    const char *pointer;
  };
  const char *bytes() const { return length <= 12 ? prefix : pointer; }
};
static_assert(sizeof(StringRecord) == 16, "DuckDB's string_t is 16 bytes");

class StringColumn {
 public:
  explicit StringColumn(std::string prefix) : prefix_(std::move(prefix)) {
    codes_ = std::make_unique<OutputFile>(prefix_ + ".codes", true);
    offsets_.push_back(0);
    slots_.assign(1 << 10, 0);
    cache_.assign(cacheSize, CacheEntry{});
  }

  bool plain() const { return plain_offsets_ != nullptr; }
  uint64_t nulls() const { return plain() ? plain_validity_->nulls() : nulls_; }
  uint64_t categories() const { return offsets_.size() - 1; }
  const std::string &prefix() const { return prefix_; }

  void append(const StringRecord *records, const uint64_t *mask, uint64_t count) {
    if (plain()) return append_plain(records, mask, count);
    codes_buffer_.resize(count);
    for (uint64_t row = 0; row < count; row++) {
      if (mask != nullptr && ((mask[row >> 6] >> (row & 63)) & 1) == 0) {
        codes_buffer_[row] = -1;
        nulls_++;
        continue;
      }
      codes_buffer_[row] = encode(records[row]);
    }
    codes_->append(codes_buffer_.data(), count * sizeof(int32_t));
    rows_ += count;
    uint64_t distinct = categories();
    if ((distinct > categoryMinimum && distinct * 2 > rows_) || dictionary_.size() > dictionaryBytesLimit) become_plain();
  }

  /** Closes the files; a category column writes its dictionary now. Returns the bytes written. */
  uint64_t finish() {
    if (plain()) {
      plain_offsets_->close();
      plain_data_->close();
      plain_validity_->close();
      return plain_offsets_->size() + plain_data_->size() + plain_validity_->size();
    }
    codes_->close();
    OutputFile offsets(prefix_ + ".dictionary_offsets");
    offsets.append(offsets_.data(), offsets_.size() * sizeof(int64_t));
    offsets.close();
    OutputFile dictionary(prefix_ + ".dictionary");
    dictionary.append(dictionary_.data(), dictionary_.size());
    dictionary.close();
    return codes_->size() + offsets.size() + dictionary.size();
  }

  const ValidityFile *plain_validity() const { return plain_validity_.get(); }

 private:
  static constexpr uint64_t categoryMinimum = 100000;
  static constexpr uint64_t dictionaryBytesLimit = uint64_t(256) << 20;
  static constexpr size_t cacheSize = 1 << 10;

  /** A recently seen short string's record and its code: most rows of a category hit it. */
  struct CacheEntry {
    uint64_t words[2] = {~uint64_t(0), ~uint64_t(0)};
    int32_t code = -1;
  };

  static uint64_t hash_bytes(const char *bytes, uint32_t length) {
    uint64_t hash = 0x9E3779B97F4A7C15ull ^ length;
    uint32_t at = 0;
    for (; at + 8 <= length; at += 8) {
      uint64_t word;
      std::memcpy(&word, bytes + at, 8);
      hash = (hash ^ word) * 0xFF51AFD7ED558CCDull;
      hash ^= hash >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, bytes + at, length - at);
    hash = (hash ^ tail) * 0xC4CEB9FE1A85EC53ull;
    return hash ^ (hash >> 29);
  }

  int32_t encode(const StringRecord &record) {
    uint64_t words[2];
    std::memcpy(words, &record, 16);
    CacheEntry *entry = nullptr;
    if (record.length <= 12) {  // an inlined record is its own key: DuckDB zeroes the unused bytes
      entry = &cache_[((words[0] * 0x9E3779B97F4A7C15ull) ^ (words[1] * 0xC2B2AE3D27D4EB4Full)) >> 54 & (cacheSize - 1)];
      if (entry->words[0] == words[0] && entry->words[1] == words[1]) return entry->code;
    }
    int32_t code = lookup(record.bytes(), record.length);
    if (entry != nullptr) *entry = CacheEntry{{words[0], words[1]}, code};
    return code;
  }

  /** The code of these bytes, adding them to the dictionary when new (open addressing, code + 1 in slots). */
  int32_t lookup(const char *bytes, uint32_t length) {
    uint64_t hash = hash_bytes(bytes, length);
    size_t mask = slots_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      uint32_t held = slots_[slot];
      if (held == 0) {
        auto code = static_cast<int32_t>(categories());
        dictionary_.append(bytes, length);
        offsets_.push_back(static_cast<int64_t>(dictionary_.size()));
        hashes_.push_back(hash);
        slots_[slot] = static_cast<uint32_t>(code) + 1;
        if (categories() * 2 > slots_.size()) grow();
        return code;
      }
      uint32_t code = held - 1;
      if (hashes_[code] == hash && static_cast<uint64_t>(offsets_[code + 1] - offsets_[code]) == length &&
          std::memcmp(dictionary_.data() + offsets_[code], bytes, length) == 0) {
        return static_cast<int32_t>(code);
      }
    }
  }

  void grow() {
    std::vector<uint32_t> slots(slots_.size() * 2, 0);
    size_t mask = slots.size() - 1;
    for (uint32_t code = 0; code < hashes_.size(); code++) {
      size_t slot = hashes_[code] & mask;
      while (slots[slot] != 0) slot = (slot + 1) & mask;
      slots[slot] = code + 1;
    }
    slots_.swap(slots);
  }

  void append_plain(const StringRecord *records, const uint64_t *mask, uint64_t count) {
    for (uint64_t row = 0; row < count; row++) {
      bool valid = mask == nullptr || ((mask[row >> 6] >> (row & 63)) & 1) != 0;
      if (valid) plain_data_->append(records[row].bytes(), records[row].length);
      auto end = static_cast<int64_t>(plain_data_->size());
      plain_offsets_->append(&end, sizeof end);
    }
    plain_validity_->append(mask, count);
  }

  /** Rewrites the codes so far as plain strings, then drops the dictionary and the codes file. */
  void become_plain() {
    plain_offsets_ = std::make_unique<OutputFile>(prefix_ + ".offsets");
    plain_data_ = std::make_unique<OutputFile>(prefix_ + ".data");
    plain_validity_ = std::make_unique<ValidityFile>(prefix_ + ".validity");
    int64_t zero = 0;
    plain_offsets_->append(&zero, sizeof zero);
    std::vector<int32_t> block(1 << 16);
    for (uint64_t done = 0; done < rows_;) {
      uint64_t count = rows_ - done < block.size() ? rows_ - done : block.size();
      codes_->read_back(block.data(), count * sizeof(int32_t), done * sizeof(int32_t));
      for (uint64_t row = 0; row < count; row++) {
        int32_t code = block[row];
        if (code >= 0) plain_data_->append(dictionary_.data() + offsets_[code], static_cast<size_t>(offsets_[code + 1] - offsets_[code]));
        auto end = static_cast<int64_t>(plain_data_->size());
        plain_offsets_->append(&end, sizeof end);
        plain_validity_->append_one(code >= 0);
      }
      done += count;
    }
    codes_->close();
    std::remove((prefix_ + ".codes").c_str());
    codes_.reset();
    std::string().swap(dictionary_);
    std::vector<int64_t>().swap(offsets_);
    std::vector<uint64_t>().swap(hashes_);
    std::vector<uint32_t>().swap(slots_);
    offsets_.push_back(0);
  }

  std::string prefix_;
  std::unique_ptr<OutputFile> codes_;
  std::vector<int32_t> codes_buffer_;
  std::string dictionary_;
  std::vector<int64_t> offsets_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;
  std::vector<CacheEntry> cache_;
  uint64_t rows_ = 0;
  uint64_t nulls_ = 0;

  std::unique_ptr<OutputFile> plain_offsets_;
  std::unique_ptr<OutputFile> plain_data_;
  std::unique_ptr<ValidityFile> plain_validity_;
};

}  // namespace iquery
