# kiln_add_image(<target>
#   [DOCKERFILE file]          the Dockerfile (default: <CONTEXT>/Dockerfile)
#   [CONTEXT dir]              the build context (default: CMAKE_CURRENT_SOURCE_DIR)
#   [TAGS ref...]              references to tag the image with, checked by kiln at configure time
#   [BUILD_ARGS K=V...]        --build-arg values
#   [TARGET stage]             --target stage
#   [DEPENDS cmake-target...]  targets to build before the image
#   [FILES src... DESTINATION dir-in-context]  files or directories (generator expressions
#                              allowed) staged into the context, e.g. $<TARGET_FILE:server>
#   [STORE dir]                the kiln store (KILN_ROOT) for this image; default: kiln's own
#                              ($KILN_ROOT when the build runs, else /var/lib/kiln or ~/.local/share/kiln)
#   [EXCLUDE_FROM_ALL])
#
# Creates a custom target that always runs `kiln build`: kiln's own generated ninja graph decides
# what is out of date (content hashes, not mtimes), so a no-op runs no step (one `kiln build` that
# finds nothing to do), and a changed binary reruns only its COPY and the steps after it.
#
# Without FILES the image builds from CONTEXT itself. With FILES the context is a staged copy,
# <current binary dir>/<target>.kiln-context/: CONTEXT is mirrored there and each FILES entry is
# copied into <DESTINATION>/, every file rewritten only when its content differs, so relinking an
# identical binary rebuilds nothing (KilnStageContext.cmake). A $<TARGET_FILE:tgt> entry adds tgt
# to DEPENDS; list the producers of other generated files in DEPENDS yourself. Keep CONTEXT a small
# directory of its own (image/ beside the sources): it is compared on every build. Limits: a file
# whose mode alone changed keeps its staged mode until its content changes; a directory in FILES is
# copied by timestamp (file(COPY)), not by content.
#
# Results: after the build <current binary dir>/<target>.iid holds the image id ("sha256:..."); its
# path is the target property KILN_IID_FILE, the tags (as given) the property KILN_TAGS:
#   get_target_property(iid_file app-image KILN_IID_FILE)
# Cache option KILN_EXPLAIN=ON runs kiln with --progress=plain --explain (which steps ran, and why)
# instead of -q.
#
# Images of one store build concurrently (`ninja -j`, `make -j`): each image has its own kiln build
# directory, and kiln takes the store lock around writes.
include_guard(GLOBAL)

option(KILN_EXPLAIN "kiln_add_image: show kiln's plain progress and why each step ran" OFF)

# Fails configuration unless kiln accepts each of `tags` as an image reference. One kiln run checks
# them all; only when one is rejected does each get its own run, for a message naming it.
function(_kiln_check_tags target tags)
  if(NOT tags)
    return()
  endif()
  get_target_property(kiln Kiln::kiln IMPORTED_LOCATION)
  execute_process(COMMAND "${kiln}" internal check-reference ${tags} RESULT_VARIABLE status
                  OUTPUT_QUIET ERROR_QUIET)
  if(status EQUAL 0)
    return()
  endif()
  foreach(tag IN LISTS tags)
    execute_process(COMMAND "${kiln}" internal check-reference "${tag}" RESULT_VARIABLE status
                    OUTPUT_QUIET ERROR_VARIABLE error ERROR_STRIP_TRAILING_WHITESPACE)
    if(status EQUAL 1)
      # kiln prints "<tag>: invalid reference format: <rule broken>".
      string(LENGTH "${tag}: " prefix_length)
      string(SUBSTRING "${error}" ${prefix_length} -1 rule)
      message(FATAL_ERROR "kiln_add_image(${target}): invalid tag \"${tag}\": ${rule}")
    elseif(NOT status EQUAL 0)
      message(FATAL_ERROR "kiln_add_image(${target}): ${kiln} could not check tag \"${tag}\" "
                          "(${status}): ${error}")
    endif()
  endforeach()
endfunction()

function(kiln_add_image name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "EXCLUDE_FROM_ALL" "DOCKERFILE;CONTEXT;TARGET;DESTINATION;STORE"
                        "TAGS;BUILD_ARGS;DEPENDS;FILES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kiln_add_image(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET Kiln::kiln)
    message(FATAL_ERROR "kiln_add_image(${name}): Kiln::kiln is not defined here; call "
                        "find_package(Kiln) in this directory or a parent")
  endif()
  if(NOT ARG_CONTEXT)
    set(ARG_CONTEXT "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  get_filename_component(context "${ARG_CONTEXT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT IS_DIRECTORY "${context}")
    message(FATAL_ERROR "kiln_add_image(${name}): CONTEXT is not a directory: ${context}")
  endif()
  if(ARG_DOCKERFILE)
    get_filename_component(dockerfile "${ARG_DOCKERFILE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  else()
    set(dockerfile "${context}/Dockerfile")
  endif()
  if(NOT EXISTS "${dockerfile}" OR IS_DIRECTORY "${dockerfile}")
    message(FATAL_ERROR "kiln_add_image(${name}): Dockerfile not found: ${dockerfile}")
  endif()
  _kiln_check_tags(${name} "${ARG_TAGS}")
  if(ARG_FILES AND NOT DEFINED ARG_DESTINATION)
    message(FATAL_ERROR "kiln_add_image(${name}): FILES needs DESTINATION <dir in context>")
  endif()
  if(DEFINED ARG_DESTINATION AND NOT ARG_FILES)
    message(FATAL_ERROR "kiln_add_image(${name}): DESTINATION without FILES")
  endif()
  if(IS_ABSOLUTE "${ARG_DESTINATION}" OR ARG_DESTINATION MATCHES "(^|/)\\.\\.(/|$)")
    message(FATAL_ERROR "kiln_add_image(${name}): DESTINATION must be a relative path inside the "
                        "context: ${ARG_DESTINATION}")
  endif()

  set(iid "${CMAKE_CURRENT_BINARY_DIR}/${name}.iid")
  set(build_context "${context}")
  set(depends ${ARG_DEPENDS})
  set(stage_command)
  if(ARG_FILES)
    set(build_context "${CMAKE_CURRENT_BINARY_DIR}/${name}.kiln-context")
    # A build tree inside the context (or the staging copy itself) is not mirrored into it.
    set(skip)
    cmake_path(IS_PREFIX context "${CMAKE_BINARY_DIR}" NORMALIZE binary_dir_inside)
    cmake_path(IS_PREFIX context "${build_context}" NORMALIZE stage_inside)
    if(binary_dir_inside)
      set(skip "${CMAKE_BINARY_DIR}")
    elseif(stage_inside)
      set(skip "${build_context}")
    endif()
    set(stage_command COMMAND "${CMAKE_COMMAND}" "-DCONTEXT=${context}" "-DSTAGE=${build_context}"
        "-DDESTINATION=${ARG_DESTINATION}" "-DSKIP=${skip}"
        -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/KilnStageContext.cmake" -- ${ARG_FILES})
    foreach(file IN LISTS ARG_FILES)
      if(file MATCHES "^\\$<TARGET_FILE:([^>]+)>$")
        list(APPEND depends "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endif()

  set(kiln_args build --iidfile "${iid}" -f "${dockerfile}")
  if(KILN_EXPLAIN)
    list(APPEND kiln_args --progress=plain --explain)
  else()
    list(APPEND kiln_args -q)
  endif()
  foreach(tag IN LISTS ARG_TAGS)
    list(APPEND kiln_args -t "${tag}")
  endforeach()
  foreach(arg IN LISTS ARG_BUILD_ARGS)
    list(APPEND kiln_args --build-arg "${arg}")
  endforeach()
  if(ARG_TARGET)
    list(APPEND kiln_args --target "${ARG_TARGET}")
  endif()
  list(APPEND kiln_args "${build_context}")

  set(launcher)
  if(ARG_STORE)
    get_filename_component(store "${ARG_STORE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
    set(launcher "${CMAKE_COMMAND}" -E env "KILN_ROOT=${store}")
  endif()

  set(all ALL)
  if(ARG_EXCLUDE_FROM_ALL)
    set(all)
  endif()
  add_custom_target(${name} ${all}
    ${stage_command}
    COMMAND ${launcher} "$<TARGET_FILE:Kiln::kiln>" ${kiln_args}
    BYPRODUCTS "${iid}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
    COMMENT "kiln: building image ${name}"
    VERBATIM)
  if(depends)
    list(REMOVE_DUPLICATES depends)
    add_dependencies(${name} ${depends})
  endif()
  set_target_properties(${name} PROPERTIES KILN_IID_FILE "${iid}" KILN_TAGS "${ARG_TAGS}")
endfunction()
