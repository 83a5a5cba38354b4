"""The face-video tool (the paper's Figure 2): video in and out (:mod:`.io`), the pipeline
that super-resolves faces in a stream of frames (:mod:`.pipeline`), the ``hofvsr enhance``
command (:mod:`.enhance`) and the speed benchmark ``hofvsr bench`` (:mod:`.bench`)."""
