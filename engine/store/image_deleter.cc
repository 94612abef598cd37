#include "engine/store/image_deleter.h"

#include <map>
#include <optional>
#include <set>

namespace kiln {
namespace {

/// The first 12 hex digits of an image or container id, as Docker's messages name them.
/// True when `name` is the image's id, whole or a prefix, with or without "sha256:".
bool IsIdReference(const std::string& name, const std::string& id) {
  const std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  return !hex.empty() && id.compare(7, hex.size(), hex) == 0 &&
         hex.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool SingleRepository(const std::vector<Reference>& refs) {
  std::set<std::string> names;
  for (const Reference& r : refs) names.insert(r.Name());
  return names.size() <= 1;
}

/// The ids of the images that have a tag.
std::set<std::string> TaggedImages(const ImageStore& store) {
  std::set<std::string> tagged;
  for (auto& [ref, id] : store.ListTags()) tagged.insert(id);
  return tagged;
}

}  // namespace

ImageDeleter::ImageDeleter(ImageStore& store) : store_(store), containers_(ListContainers(store)) {}

void ImageDeleter::Delete(const std::string& name, bool force, bool prune,
                          std::vector<ImageRemoval>& done) {
  const std::optional<ImageRecord> found = store_.FindImage(name);
  if (!found) throw ImageStoreError("No such image: " + name);
  const ImageRecord& image = *found;
  std::vector<Reference> refs = store_.TagsOf(image.id);
  bool removed_reference = false;
  if (!IsIdReference(name, image.id)) {
    if (!force && SingleRepository(refs)) {
      if (const ContainerRecord* c = FirstContainer(image.id, std::nullopt))
        throw ImageDeleteConflict("conflict: unable to remove repository reference \"" + name +
                                  "\" (must force) - container " + ShortId(c->id) +
                                  " is using its referenced image " + ShortId(image.id));
    }
    const Reference ref = ParseReference(name);
    store_.Untag(ref);
    done.push_back({ImageRemoval::Kind::kUntagged, ref.Familiar()});
    if (!store_.TagsOf(image.id).empty()) return;
    removed_reference = true;
  } else if (!SingleRepository(refs)) {
    if (!force)
      throw ImageDeleteConflict("conflict: unable to delete " + ShortId(image.id) +
                                " (must be forced) - image is referenced in multiple repositories");
  } else {
    // An id of an image tagged in one repository removes its tags after the conflict checks.
    CheckConflicts(image.id, /*hard_only=*/force, /*ignore_tags=*/true);
    for (const Reference& ref : refs) {
      store_.Untag(ref);
      done.push_back({ImageRemoval::Kind::kUntagged, ref.Familiar()});
    }
  }
  DeleteWithParents(image.id, force, prune, /*quiet=*/removed_reference, done);
}

bool ImageDeleter::Prune(const std::string& id, std::vector<ImageRemoval>& done) {
  if (FindConflict(id, false, /*ignore_tags=*/true)) return false;
  DeleteWithParents(id, /*force=*/true, /*prune=*/true, /*quiet=*/false, done);
  return true;
}

/// The first container using the image; `running` restricts to running or stopped ones.
const ContainerRecord* ImageDeleter::FirstContainer(const std::string& id,
                                                    std::optional<bool> running) const {
  for (const ContainerRecord& c : containers_)
    if (c.image_id == id && (!running || IsRunning(c) == *running)) return &c;
  return nullptr;
}

/// True when a non-intermediate (or tagged) image other than `id` has `id` in its parent chain.
bool ImageDeleter::HasDependentChildren(const std::string& id) const {
  const std::set<std::string> tagged = TaggedImages(store_);
  std::map<std::string, std::string> parents;
  const std::vector<ImageRecord> images = store_.ListImages();
  for (const ImageRecord& r : images) parents[r.id] = r.parent;
  for (const ImageRecord& r : images) {
    if (r.id == id || (r.intermediate && !tagged.count(r.id))) continue;
    std::set<std::string> seen;
    for (std::string p = r.parent; !p.empty() && seen.insert(p).second;) {
      if (p == id) return true;
      auto it = parents.find(p);
      if (it == parents.end()) break;
      p = it->second;
    }
  }
  return false;
}

/// What keeps the image: hard conflicts (a child image, a running container) first; with
/// `hard_only` nothing else; else its tags (unless `ignore_tags`) and stopped containers.
std::optional<ImageDeleter::Conflict> ImageDeleter::FindConflict(const std::string& id,
                                                                 bool hard_only,
                                                                 bool ignore_tags) const {
  if (HasDependentChildren(id)) return Conflict{true, "image has dependent child images"};
  if (const ContainerRecord* c = FirstContainer(id, true))
    return Conflict{true, "image is being used by running container " + ShortId(c->id), true};
  if (hard_only) return std::nullopt;
  if (!ignore_tags && !store_.TagsOf(id).empty())
    return Conflict{false, "image is referenced in one or more repositories"};
  if (const ContainerRecord* c = FirstContainer(id, false))
    return Conflict{false, "image is being used by stopped container " + ShortId(c->id), true};
  return std::nullopt;
}

void ImageDeleter::CheckConflicts(const std::string& id, bool hard_only, bool ignore_tags) const {
  if (auto c = FindConflict(id, hard_only, ignore_tags))
    throw ImageDeleteConflict("conflict: unable to delete " + ShortId(id) + " (" +
                              (c->hard ? "cannot be forced" : "must be forced") + ") - " +
                              c->message);
}

/// Deletes the image with its remaining tags and, with `prune`, its parents while they are
/// left untagged and unused. `quiet`: a conflict stops the deletion without an error, unless
/// the image is left dangling and unused, as Docker does after an untag or for parents.
void ImageDeleter::DeleteWithParents(const std::string& id, bool force, bool prune, bool quiet,
                                     std::vector<ImageRemoval>& done) {
  if (auto c = FindConflict(id, force, false)) {
    const bool dangling = store_.TagsOf(id).empty() && !HasDependentChildren(id);
    if (quiet && (!dangling || c->used)) return;
    CheckConflicts(id, force, false);
  }
  const std::optional<ImageRecord> record = store_.GetImage(id);
  const std::string parent = record ? record->parent : "";
  for (const Reference& ref : store_.TagsOf(id)) {
    store_.Untag(ref);
    done.push_back({ImageRemoval::Kind::kUntagged, ref.Familiar()});
  }
  store_.DeleteImage(id);
  done.push_back({ImageRemoval::Kind::kDeleted, id});
  if (!prune || parent.empty() || !store_.GetImage(parent)) return;
  DeleteWithParents(parent, false, true, true, done);
}

}  // namespace kiln
