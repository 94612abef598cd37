// Removing images as `docker rmi` and `docker image prune` do (Docker's image delete service,
// daemon/images/image_delete.go): a name untags, an id deletes; an image stays while a container
// or a child image needs it unless forced; deleting an image prunes its untagged parents.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/store/container_store.h"
#include "engine/store/image_store.h"

namespace kiln {

/// A deletion Docker refuses; what() is its message, "conflict: unable to delete <short id>
/// (must be forced) - ..." or "(cannot be forced)", or "conflict: unable to remove repository
/// reference ...".
class ImageDeleteConflict : public ImageStoreError {
 public:
  using ImageStoreError::ImageStoreError;
};

/// One thing a deletion did.
struct ImageRemoval {
  enum class Kind { kUntagged, kDeleted };
  Kind kind;
  std::string name;  ///< the tag removed (familiar form, "app:latest") or the id deleted
  bool operator==(const ImageRemoval&) const = default;
};

/// Deletes images of one store by Docker's rules. Reads the store's containers once, when made:
/// the caller holds the store lock (ImageStore::Lock) for the deleter's whole life.
class ImageDeleter {
 public:
  explicit ImageDeleter(ImageStore& store);

  /// `docker rmi NAME`. A tag (or digest reference) is untagged, and the image deleted when it
  /// was its last tag and nothing else needs it; an id (or unique id prefix) deletes the image
  /// with its tags. `force` deletes an image referenced in several repositories or used by a
  /// stopped container; `prune` also deletes the untagged parents no other image or container
  /// needs. What was done is appended to `done` in order, as it happens: after a throw it
  /// holds what was done before. Throws ImageStoreError "No such image: NAME" for an unknown
  /// name, ImageDeleteConflict when the image must stay (a running container or a child image
  /// needs it, or, unless forced, a stopped container or another repository's tag).
  void Delete(const std::string& name, bool force, bool prune, std::vector<ImageRemoval>& done);

  /// `docker image prune` for the image with id `id`: deletes it with all its tags and its
  /// untagged parents, unless a child image or a container needs it; then returns false and
  /// does nothing. Appends what it did to `done`.
  bool Prune(const std::string& id, std::vector<ImageRemoval>& done);

 private:
  struct Conflict {
    bool hard;  ///< even force does not delete the image
    std::string message;
    bool used = false;  ///< by a container
  };
  const ContainerRecord* FirstContainer(const std::string& id, std::optional<bool> running) const;
  bool HasDependentChildren(const std::string& id) const;
  std::optional<Conflict> FindConflict(const std::string& id, bool hard_only,
                                       bool ignore_tags) const;
  void CheckConflicts(const std::string& id, bool hard_only, bool ignore_tags) const;
  void DeleteWithParents(const std::string& id, bool force, bool prune, bool quiet,
                         std::vector<ImageRemoval>& done);

  ImageStore& store_;
  std::vector<ContainerRecord> containers_;
};

}  // namespace kiln
