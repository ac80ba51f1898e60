# cmake -P script behind the app.generative_<command> tests.
# Inputs (-D): APP, the ctnn_generative executable; MODE, its command: autoencoder,
# denoising, vae or gan; DATA, a Fashion-MNIST directory (the tiny one: a
# batch of 64 training images); OUT, a scratch --out directory; EPOCHS; for
# gan, TRAIN, the ctnn_train executable (it trains the LeNet that scores the
# samples).
# Trains, then checks the report's values: the training loss fell from the
# first epoch to the last; the autoencoders reconstruct the test images
# better than the training set's mean image does; the VAE's test ELBO is a
# finite number that rose; the GAN reports both networks' losses as finite
# numbers every epoch, and the classifier's figures for its samples and the
# test images in range (mean max-probability in [0.1, 1], class entropy in
# [0, ln 10]). The pictures and both CSV files must exist.
cmake_minimum_required(VERSION 3.25)

set(required APP MODE DATA OUT EPOCHS)
if(MODE STREQUAL "gan")
  list(APPEND required TRAIN)
endif()
foreach(var IN LISTS required)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "generative_smoke: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # a stale report must not pass
set(extra "")
if(MODE STREQUAL "gan")
  execute_process(COMMAND "${TRAIN}" --data "${DATA}" --model lenet --epochs 1 --threads 1 --quiet
      --out "${OUT}/lenet" --checkpoint "${OUT}/lenet.npz"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "generative_smoke: ctnn_train exited with ${rc}:\n${out}${err}")
  endif()
  set(extra --classifier "${OUT}/lenet.npz")
endif()
execute_process(COMMAND "${APP}" "${MODE}" --data "${DATA}" --epochs ${EPOCHS} --threads 1 --quiet --out "${OUT}"
    ${extra}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "generative_smoke: ctnn_generative ${MODE} exited with ${rc}")
endif()

file(READ "${OUT}/report.json" report)
string(JSON epochs LENGTH "${report}" epochs)
if(NOT epochs EQUAL EPOCHS)
  message(FATAL_ERROR "generative_smoke: the report lists ${epochs} epochs, not ${EPOCHS}")
endif()
math(EXPR last "${EPOCHS} - 1")
set(number "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")

if(MODE STREQUAL "gan")
  # A GAN's losses need not fall: the two networks play against each other.
  foreach(e RANGE ${last})
    foreach(key IN ITEMS d_loss g_loss d_real d_fake)
      string(JSON value GET "${report}" epochs ${e} ${key})
      if(NOT value MATCHES "${number}")
        message(FATAL_ERROR "generative_smoke: epoch ${e}: ${key} is not a finite number: ${value}")
      endif()
    endforeach()
  endforeach()
  foreach(kind IN ITEMS generated real)
    string(JSON probability GET "${report}" quality ${kind} mean_max_probability)
    string(JSON entropy GET "${report}" quality ${kind} class_entropy)
    if(NOT probability MATCHES "${number}" OR probability LESS 0.1 OR probability GREATER 1)
      message(FATAL_ERROR "generative_smoke: the ${kind} images' mean max-probability ${probability} is not in [0.1, 1]")
    endif()
    if(NOT entropy MATCHES "${number}" OR entropy LESS 0 OR entropy GREATER 2.3026)
      message(FATAL_ERROR "generative_smoke: the ${kind} images' class entropy ${entropy} is not in [0, ln 10]")
    endif()
  endforeach()
  set(pictures gan_samples.png)
  foreach(e RANGE 1 ${EPOCHS})
    list(APPEND pictures samples_epoch_${e}.png)
  endforeach()
  set(header "epoch,d_loss,g_loss,d_real,d_fake,generated_max_probability,generated_class_entropy,seconds\n1,")
  set(curve_header "step,d_loss,g_loss\n1,")
else()
  string(JSON first_loss GET "${report}" epochs 0 train_loss)
  string(JSON last_loss GET "${report}" epochs ${last} train_loss)
  if(NOT last_loss LESS first_loss)
    message(FATAL_ERROR "generative_smoke: the training loss did not fall: ${first_loss} in epoch 1, ${last_loss} in the last")
  endif()
  set(curve_header "step,loss\n1,")
endif()

if(MODE STREQUAL "vae")
  string(JSON first_elbo GET "${report}" epochs 0 test_elbo)
  string(JSON last_elbo GET "${report}" epochs ${last} test_elbo)
  if(NOT last_elbo MATCHES "${number}" OR NOT first_elbo MATCHES "${number}")
    message(FATAL_ERROR "generative_smoke: the test ELBO is not a finite number: ${first_elbo}, ${last_elbo}")
  endif()
  if(NOT last_elbo GREATER first_elbo)
    message(FATAL_ERROR "generative_smoke: the test ELBO did not rise: ${first_elbo} in epoch 1, ${last_elbo} in the last")
  endif()
  set(pictures vae_samples.png vae_interpolation.png)
  set(header "epoch,train_loss,test_elbo,test_reconstruction_nll,test_kl,seconds\n1,")
elseif(NOT MODE STREQUAL "gan")
  string(JSON baseline GET "${report}" baseline_mean_image_mse_per_pixel)
  string(JSON error GET "${report}" test_mse_per_pixel)
  if(NOT error LESS baseline)
    message(FATAL_ERROR "generative_smoke: the test reconstruction error ${error} is not below the mean image's ${baseline}")
  endif()
  if(MODE STREQUAL "denoising")
    string(JSON corrupted GET "${report}" epochs ${last} test_mse_per_pixel_corrupted_input)
    if(NOT corrupted LESS baseline)
      message(FATAL_ERROR "generative_smoke: from corrupted input the error ${corrupted} is not below the mean image's ${baseline}")
    endif()
  endif()
  set(pictures ${MODE}_reconstructions.png ${MODE}_filters.png)
  set(header "epoch,train_loss,test_mse_per_pixel,test_bce_per_image,seconds\n1,")
endif()

foreach(file IN LISTS pictures)
  file(READ "${OUT}/${file}" magic LIMIT 4 HEX)
  if(NOT magic STREQUAL "89504e47")
    message(FATAL_ERROR "generative_smoke: ${OUT}/${file} is not a PNG file")
  endif()
endforeach()
file(READ "${OUT}/epochs.csv" table)
if(NOT table MATCHES "^${header}")
  message(FATAL_ERROR "generative_smoke: ${OUT}/epochs.csv does not start with '${header}':\n${table}")
endif()
file(READ "${OUT}/loss_curve.csv" curve)
if(NOT curve MATCHES "^${curve_header}")
  message(FATAL_ERROR "generative_smoke: ${OUT}/loss_curve.csv does not start with its header:\n${curve}")
endif()
