"""The downloadable validator (``build``: a zipapp of the engine's checking modules, run by
``main``) and the tested copy-paste training example on each case-study page
(``examples``)."""
