// A writable root file system over a stack of unpacked layers: an overlayfs mount, or, where
// overlayfs is unavailable, a merged copy whose changes are found by a tree diff. Either way the
// changes come out as an overlayfs-style upper directory (char device 0/0 whiteouts,
// trusted.overlay.opaque=y directories), the form the layer writer reads.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln {

class OverlayError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The overlayfs limit on stacked lower layers.
inline constexpr size_t kMaxOverlayLowers = 500;

/// The path of `relative` (e.g. "etc/passwd") as the merged view of `layers` (top-most first,
/// overlay whiteout form) shows it, or nullopt when no layer has it or a whiteout, an opaque
/// directory or a non-directory above hides it. Symlinks are not followed.
std::optional<std::filesystem::path> FindInLayers(const std::vector<std::filesystem::path>& layers,
                                                  const std::filesystem::path& relative);

/// Whether unmounting an overlay waits until its upper directory is on disk.
enum class UpperSync {
  kOnUnmount,  ///< overlayfs's default: unmounting syncs the upper file system
  /// Mounted `volatile` where the kernel allows it: unmounting waits for nothing (the sync would
  /// flush every dirty page of the upper file system, not only the overlay's).
  kNever,
};

/// An overlayfs mount; unmounted by the destructor (lazily if busy). Move-only.
class OverlayMount {
 public:
  /// Mounts lowerdir=`lowers` (top-most first, at least one), upperdir, workdir at `target`.
  /// Option strings longer than a page are mounted with short relative paths (symlinks in
  /// `link_dir`, created here). Throws OverlayError with the kernel's reason.
  OverlayMount(const std::vector<std::filesystem::path>& lowers, const std::filesystem::path& upper,
               const std::filesystem::path& work, const std::filesystem::path& target,
               const std::filesystem::path& link_dir, UpperSync sync = UpperSync::kOnUnmount);
  ~OverlayMount();
  OverlayMount(OverlayMount&& other) noexcept;
  OverlayMount& operator=(OverlayMount&&) = delete;
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;

  const std::filesystem::path& target() const { return target_; }
  /// Unmounts now; throws OverlayError if even a lazy unmount fails. Idempotent.
  void Unmount();

 private:
  std::filesystem::path target_;
  bool mounted_ = false;
};

/// Copies `layers` (top-most first, overlay whiteout form) into `dest` bottom-up, applying
/// whiteouts and opaque directories, preserving modes, owners, times, xattrs (except
/// trusted.overlay.*), hard links, symlinks and device nodes.
void MergeLayers(const std::vector<std::filesystem::path>& layers,
                 const std::filesystem::path& dest);

/// Copies the tree `source` into `dest` (created), preserving metadata as MergeLayers does.
void CopyTree(const std::filesystem::path& source, const std::filesystem::path& dest);

/// Writes into `out_upper` (created) what overlayfs would have left in an upper directory had
/// `lower_merged` been turned into `rootfs`: added and changed entries (with their parent
/// directories), char device 0/0 whiteouts for removed ones, trusted.overlay.opaque=y on
/// directories that replaced non-directories. Regular files count as changed when type, mode,
/// owner, size, mtime or xattrs differ (Docker's naive diff rule).
void DiffTrees(const std::filesystem::path& lower_merged, const std::filesystem::path& rootfs,
               const std::filesystem::path& out_upper);

/// A writable root file system over `lowers` (top-most first; empty = an empty root) kept under
/// `scratch`: an overlay mount (synced as `sync` says), or with overlayfs failing (or
/// KILN_NO_OVERLAY=1 in the environment) a merged copy.
class WritableRootfs {
 public:
  WritableRootfs(const std::vector<std::filesystem::path>& lowers,
                 const std::filesystem::path& scratch, UpperSync sync = UpperSync::kNever);
  ~WritableRootfs() = default;
  WritableRootfs(const WritableRootfs&) = delete;
  WritableRootfs& operator=(const WritableRootfs&) = delete;

  /// The directory to use as "/".
  const std::filesystem::path& root() const { return root_; }
  /// False when the copy fallback is in use.
  bool overlay() const { return mount_.has_value(); }
  /// Why overlayfs was not used (empty when it was).
  const std::string& fallback_reason() const { return fallback_reason_; }
  /// Ends writing: unmounts (or diffs the copy) and returns the upper directory with the
  /// changes. Call once.
  std::filesystem::path Finish();

 private:
  std::filesystem::path scratch_;
  std::filesystem::path root_;
  std::filesystem::path upper_;
  std::optional<OverlayMount> mount_;
  std::string fallback_reason_;
};

}  // namespace kiln
