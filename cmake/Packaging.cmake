# Desktop integration (icons, .desktop, AppStream, MIME, man pages, copyright) and the Debian
# package. Included from the top-level CMakeLists after app/, so the program targets exist.
# The programs' own install() rules live next to them in app/.

set(QS_LINUX_DIR ${CMAKE_SOURCE_DIR}/packaging/linux)
set(QS_PACKAGING_BINARY_DIR ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${QS_PACKAGING_BINARY_DIR}/man)

find_program(QS_HELP2MAN help2man)
if(NOT QS_HELP2MAN)
  message(FATAL_ERROR "help2man not found (it writes the man pages): run packaging/install-deps.sh")
endif()
if(QS_BUILD_GUI)
  find_program(QS_RSVG_CONVERT rsvg-convert)
  if(NOT QS_RSVG_CONVERT)
    message(FATAL_ERROR "rsvg-convert not found (it renders the PNG icons): run packaging/install-deps.sh")
  endif()
endif()

# Man pages, generated from each program's --help so they follow the code.
# qs_man_page(TARGET "one-line description" [ENV VAR=value...])
function(qs_man_page target description)
  set(page ${QS_PACKAGING_BINARY_DIR}/man/${target}.1)
  add_custom_command(OUTPUT ${page} ${page}.gz
    COMMAND ${CMAKE_COMMAND} -E env ${ARGN}
            bash ${QS_LINUX_DIR}/make-manpage.sh $<TARGET_FILE:${target}> ${page}
                 ${QS_LINUX_DIR}/${target}.h2m "${description}" ${PROJECT_VERSION}
    DEPENDS ${target} ${QS_LINUX_DIR}/make-manpage.sh ${QS_LINUX_DIR}/${target}.h2m
    COMMENT "help2man ${target}"
    VERBATIM)
  add_custom_target(qs_man_${target} ALL DEPENDS ${page}) # one per page: the CLI's needs no GUI
  install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()

qs_man_page(quantscope-cli "inspect, quantize, evaluate and export LLM checkpoints")
qs_man_page(quantscope-bench "time QuantScope's Vulkan compute kernels")
if(QS_BUILD_GUI)
  # The GUI's --help needs a QApplication, hence a platform plugin that works without a display.
  qs_man_page(quantscope "desktop workbench for quantizing large language models" QT_QPA_PLATFORM=offscreen)
endif()

install(FILES ${QS_LINUX_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/quantscope)

if(QS_BUILD_GUI)
  # hicolor icons: the SVG as drawn, PNGs rendered from it.
  set(QS_ICON_SVG ${CMAKE_SOURCE_DIR}/resources/icons/quantscope.svg)
  set(QS_ICON_PNGS)
  foreach(size 16 22 24 32 48 64 128 256 512)
    set(png ${QS_PACKAGING_BINARY_DIR}/icons/${size}x${size}/quantscope.png)
    add_custom_command(OUTPUT ${png}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${QS_PACKAGING_BINARY_DIR}/icons/${size}x${size}
      COMMAND ${QS_RSVG_CONVERT} --width=${size} --height=${size} --output=${png} ${QS_ICON_SVG}
      DEPENDS ${QS_ICON_SVG}
      COMMENT "rsvg-convert quantscope.png ${size}x${size}"
      VERBATIM)
    list(APPEND QS_ICON_PNGS ${png})
    install(FILES ${png} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps)
  endforeach()
  add_custom_target(qs_icons ALL DEPENDS ${QS_ICON_PNGS})
  install(FILES ${QS_ICON_SVG} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)

  install(FILES ${QS_LINUX_DIR}/quantscope.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${QS_LINUX_DIR}/io.github.quantscope.QuantScope.metainfo.xml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  install(FILES ${QS_LINUX_DIR}/quantscope-mime.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/mime/packages
          RENAME quantscope.xml)
endif()

# --- Debian package (cpack -G DEB in the build dir; `make package` from the top) ------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME quantscope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The QuantScope authors")
set(CPACK_PACKAGE_CONTACT "The QuantScope authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop workbench for quantizing large language models")
set(CPACK_PACKAGE_DESCRIPTION
  "QuantScope opens LLM checkpoints (Hugging Face safetensors folders, GGUF files), shows every
layer and tensor, quantizes them with RTN, Absmax INT8, SmoothQuant W8A8, GPTQ, AWQ and NF4
side by side, measures perplexity, KL divergence and top-1 agreement, and exports the result.
Computes on a GPU through Vulkan or on the CPU. Ships a small demo model.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (the Qt 6, QCustomPlot, spdlog, fmt and PCRE2
# packages the binaries link). The Vulkan loader is opened with dlopen, which dpkg-shlibdeps
# cannot see, so it is named here. Mesa's drivers give Vulkan on AMD/Intel GPUs and on the CPU
# (lavapipe), but QuantScope computes on its CPU backend without them: suggested only.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libvulkan1")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mesa-vulkan-drivers")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
include(CPack)
