# cmake -P script behind the app.generative_<command> tests.
# Inputs (-D): APP, the ctnn_generative executable; MODE, its command: autoencoder,
# denoising or vae; DATA, a Fashion-MNIST directory (the tiny one: a batch of
# 64 training images); OUT, a scratch --out directory; EPOCHS.
# Trains, then checks the report's values: the training loss fell from the
# first epoch to the last; the autoencoders reconstruct the test images
# better than the training set's mean image does; the VAE's test ELBO is a
# finite number that rose. The pictures and both CSV files must exist.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS APP MODE DATA OUT EPOCHS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "generative_smoke: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # a stale report must not pass
execute_process(COMMAND "${APP}" "${MODE}" --data "${DATA}" --epochs ${EPOCHS} --threads 1 --quiet --out "${OUT}"
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
string(JSON first_loss GET "${report}" epochs 0 train_loss)
string(JSON last_loss GET "${report}" epochs ${last} train_loss)
if(NOT last_loss LESS first_loss)
  message(FATAL_ERROR "generative_smoke: the training loss did not fall: ${first_loss} in epoch 1, ${last_loss} in the last")
endif()

set(number "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")
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
else()
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
if(NOT curve MATCHES "^step,loss\n1,")
  message(FATAL_ERROR "generative_smoke: ${OUT}/loss_curve.csv does not start with its header:\n${curve}")
endif()
