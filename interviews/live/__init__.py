"""Live mock interviews: a room where a candidate and an interviewer meet, the session it
starts, and one ordered event log both pages catch up from (``models``); who may do what
(``policy``), writes (``services``), reads (``selectors``), pages and the push channel
(``views``, ``consumers``)."""
